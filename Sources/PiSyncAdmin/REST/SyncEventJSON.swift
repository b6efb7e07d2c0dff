import Foundation
import PiSyncStore

/// The seed's JSON form of a sync event: reading a POST body, and writing a stored event.
///
/// A body is one object with `device_id` (string), `timestamp` (ISO 8601 string, or Unix
/// milliseconds as a number), `total_files_synced` and `total_errors` (whole numbers,
/// 0...4294967295) and `internet_speed` (a number, Mbps). Other members are ignored, as the
/// seed's schema ignored them (`sync_status` is derived, never read). What the store checks
/// (device id alphabet, timestamp range, speed >= 0) is left to the store's validator, so that
/// the REST and binary protocols refuse the same events with the same messages.
enum SyncEventJSON {
    /// The members an event body must have, in the order they are checked and documented.
    static let requiredFields = ["device_id", "timestamp", "total_files_synced", "total_errors", "internet_speed"]

    /// The event a POST body describes.
    static func parse(_ body: [UInt8]) throws(RESTError) -> SyncEvent {
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: Data(body))
        } catch {
            throw .invalid("body", "the body is not valid JSON: \(describe(error))")
        }
        guard case .object = value else {
            throw .invalid("body", "the body must be a JSON object (one sync event), got \(value.typeName)")
        }
        for field in requiredFields where value[field] == nil || value[field] == .null {
            throw .invalid(field, "\(field) is required")
        }
        guard case .string(let deviceID) = value["device_id"] else {
            throw .invalid("device_id", "device_id must be a string, got \(value["device_id"]?.typeName ?? "nothing")")
        }
        return SyncEvent(
            deviceID: deviceID, timestamp: try timestamp(value["timestamp"]),
            filesSynced: try count(value, "total_files_synced"), errors: try count(value, "total_errors"),
            internetSpeed: try speed(value["internet_speed"]))
    }

    /// A stored event as the seed answered it: status in lower case, timestamp in ISO 8601 UTC.
    static func render(_ event: SyncEvent) -> JSONValue {
        [
            "device_id": .string(event.deviceID),
            "timestamp": .string(ISOTimestamp.format(event.timestamp)),
            "total_files_synced": .number(Double(event.filesSynced)),
            "total_errors": .number(Double(event.errors)),
            "internet_speed": JSONValue(float: event.internetSpeed),
            "sync_status": .string("\(event.status)"),
        ]
    }

    private static func timestamp(_ value: JSONValue?) throws(RESTError) -> Int64 {
        switch value {
        case .string(let text):
            do {
                return try ISOTimestamp.parse(text)
            } catch {
                throw .invalid("timestamp", "timestamp '\(text)' is not an ISO 8601 date-time: \(error.reason)")
            }
        case .number(let millis):
            guard millis.rounded() == millis, abs(millis) < 9_007_199_254_740_992 else {
                throw .invalid("timestamp", "timestamp as a number must be whole Unix milliseconds, got \(JSONValue.number(millis).serialized)")
            }
            return Int64(millis)
        default:
            throw .invalid(
                "timestamp",
                "timestamp must be an ISO 8601 string or Unix milliseconds, got \(value?.typeName ?? "nothing")")
        }
    }

    private static func count(_ body: JSONValue, _ field: String) throws(RESTError) -> UInt32 {
        guard case .number(let number) = body[field] else {
            throw .invalid(field, "\(field) must be a number, got \(body[field]?.typeName ?? "nothing")")
        }
        guard number.rounded() == number, number >= 0, number <= Double(UInt32.max) else {
            throw .invalid(field, "\(field) must be a whole number from 0 to \(UInt32.max), got \(JSONValue.number(number).serialized)")
        }
        return UInt32(number)
    }

    private static func speed(_ value: JSONValue?) throws(RESTError) -> Float {
        guard case .number(let number) = value else {
            throw .invalid("internet_speed", "internet_speed must be a number (Mbps), got \(value?.typeName ?? "nothing")")
        }
        guard abs(number) <= Double(Float.greatestFiniteMagnitude) else {
            throw .invalid("internet_speed", "internet_speed \(JSONValue.number(number).serialized) is out of range")
        }
        return Float(number)
    }

    /// The parser's reason, without Foundation's wrapping ("The given data was not valid JSON").
    private static func describe(_ error: any Error) -> String {
        guard case DecodingError.dataCorrupted(let context) = error else { return "\(error)" }
        if let underlying = context.underlyingError as? NSError,
            let detail = underlying.userInfo[NSDebugDescriptionErrorKey] as? String
        {
            return detail
        }
        return context.underlyingError.map { "\($0)" } ?? context.debugDescription
    }
}
