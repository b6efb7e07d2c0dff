/// Checks a sync event against PiSync's rules for each field.
public struct EventValidator: Sendable {
    /// Longest accepted device id, in characters.
    public static let maxDeviceIDLength = 128
    /// 2000-01-01T00:00:00Z in Unix epoch milliseconds.
    public static let year2000: Int64 = 946_684_800_000

    /// Timestamps before this (Unix ms) are rejected.
    public var minTimestamp: Int64
    /// Timestamps more than this many milliseconds after the server's clock are rejected.
    public var maxFutureSkewMillis: Int64

    /// Creates a validator; the defaults are 2000-01-01 and 5 minutes.
    public init(minTimestamp: Int64 = EventValidator.year2000, maxFutureSkewMillis: Int64 = 5 * 60 * 1000) {
        self.minTimestamp = minTimestamp
        self.maxFutureSkewMillis = maxFutureSkewMillis
    }

    /// Returns the first rule `event` breaks, or `nil` when it is valid at time `now` (Unix ms).
    public func violation(in event: SyncEvent, now: Int64) -> FieldViolation? {
        if let problem = Self.deviceIDViolation(event.deviceID) {
            return problem
        }
        if event.timestamp < minTimestamp {
            return FieldViolation(
                field: "timestamp",
                message: "timestamp \(event.timestamp) is before the earliest accepted \(minTimestamp) (Unix ms)"
            )
        }
        let latest = now.addingReportingOverflow(maxFutureSkewMillis)
        if !latest.overflow && event.timestamp > latest.partialValue {
            return FieldViolation(
                field: "timestamp",
                message: "timestamp \(event.timestamp) is more than \(maxFutureSkewMillis) ms in the future (server time \(now))"
            )
        }
        if !event.internetSpeed.isFinite || event.internetSpeed < 0 {
            return FieldViolation(
                field: "internet_speed",
                message: "internet_speed must be a finite number >= 0 Mbps, got \(event.internetSpeed)"
            )
        }
        return nil
    }

    /// Returns why `deviceID` is not a valid device id, or `nil` when it is.
    public static func deviceIDViolation(_ deviceID: String) -> FieldViolation? {
        if deviceID.isEmpty {
            return FieldViolation(field: "device_id", message: "device_id is required")
        }
        let utf8 = deviceID.utf8
        if let bad = utf8.firstIndex(where: { !isDeviceIDByte($0) }) {
            let position = utf8.distance(from: utf8.startIndex, to: bad)
            return FieldViolation(
                field: "device_id",
                message: "device_id may contain only A-Z a-z 0-9 . _ : - (invalid byte at position \(position))"
            )
        }
        if utf8.count > maxDeviceIDLength {
            return FieldViolation(
                field: "device_id",
                message: "device_id is \(deviceID.count) characters long; the maximum is \(maxDeviceIDLength)"
            )
        }
        return nil
    }

    private static func isDeviceIDByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: ":"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }
}
