import Foundation

/// A `Retry-After` response header (RFC 9110 §10.2.3): a number of seconds, or an HTTP date.
enum RetryAfter {
    /// The longest wait the relay honours: a larger value is taken as an hour.
    static let longest: Duration = .seconds(3600)

    /// How long `value` asks the client to wait, from `now`; `nil` when it is neither form.
    /// A date in the past means no wait.
    static func delay(_ value: String, now: Date = Date()) -> Duration? {
        let text = value.trimmingCharacters(in: .whitespaces)
        if let seconds = UInt64(text) {
            return seconds >= 3600 ? longest : .seconds(seconds)
        }
        guard let date = httpDate.date(from: text) else { return nil }
        let seconds = date.timeIntervalSince(now)
        return seconds <= 0 ? .zero : min(.seconds(seconds), longest)
    }

    /// IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`, the form a server must send.
    private static var httpDate: DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter
    }
}
