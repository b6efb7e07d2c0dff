import PiSyncProtocol
import PiSyncStore

/// One document of the seed's SyncEvent collection (Node/Express + Mongoose), as `mongoexport`
/// writes it, read into a PiSync event:
///
/// ```json
/// {"_id":{"$oid":"..."},"device_id":"pibook-001","timestamp":{"$date":"2026-11-28T08:00:00.000Z"},
///  "total_files_synced":12,"total_errors":0,"internet_speed":8.5,"sync_status":"success","__v":0}
/// ```
///
/// `_id`, `__v`, `createdAt`, `updatedAt` and any other member are ignored, and so is the
/// seed's `sync_status`: PiSync derives the status from the counts.
enum SeedDocument {
    /// The event of the JSON document `bytes`, or the first thing wrong with it: a field and a
    /// reason (field `""` when the document is not JSON or not an object). The device id is
    /// checked here by the server's own rule; the timestamp's range and the speed's sign are
    /// left to the server, which judges them.
    static func event(from bytes: [UInt8]) throws(FieldViolation) -> Pisync_V1_SyncEvent {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw FieldViolation(field: "", message: error.description)
        }
        guard case .object(let members) = value else {
            throw FieldViolation(field: "", message: "a document must be a JSON object, got \(value.kind)")
        }
        return try event(from: members)
    }

    /// The event of a parsed document's members.
    static func event(from members: [String: JSONValue]) throws(FieldViolation) -> Pisync_V1_SyncEvent {
        let deviceID = try required("device_id", in: members)
        guard case .string(let device) = deviceID else {
            throw FieldViolation(field: "device_id", message: "device_id must be a string, got \(deviceID.kind) \(deviceID.excerpt)")
        }
        if let violation = EventValidator.deviceIDViolation(device) { throw violation }
        let timestamp = try required("timestamp", in: members)
        guard let millis = timestamp.dateMillis else {
            throw FieldViolation(
                field: "timestamp",
                message: "timestamp must be an Extended JSON date such as {\"$date\":\"2026-11-28T08:00:00.000Z\"}, got \(timestamp.excerpt)")
        }
        let speed = try required("internet_speed", in: members)
        guard let mbps = speed.doubleValue else {
            throw FieldViolation(field: "internet_speed", message: "internet_speed must be a number, got \(speed.kind) \(speed.excerpt)")
        }
        let files = try count("total_files_synced", in: members)
        let errors = try count("total_errors", in: members)
        return .with {
            $0.deviceID = device
            $0.timestamp = millis
            $0.totalFilesSynced = files
            $0.totalErrors = errors
            $0.internetSpeed = Float(mbps)
        }
    }

    private static func required(_ field: String, in members: [String: JSONValue]) throws(FieldViolation) -> JSONValue {
        switch members[field] {
        case nil: throw FieldViolation(field: field, message: "\(field) is missing")
        case .null?: throw FieldViolation(field: field, message: "\(field) is null")
        case let value?: return value
        }
    }

    private static func count(_ field: String, in members: [String: JSONValue]) throws(FieldViolation) -> UInt32 {
        let value = try required(field, in: members)
        guard let whole = value.wholeNumber, let count = UInt32(exactly: whole) else {
            throw FieldViolation(
                field: field, message: "\(field) must be a whole number from 0 to \(UInt32.max), got \(value.excerpt)")
        }
        return count
    }
}
