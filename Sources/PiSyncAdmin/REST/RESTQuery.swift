import Hummingbird
import PiSyncStore

/// The query parameters of a REST listing, checked: only the names the route knows, each at
/// most once, each a whole number in range. Absent values keep the binary protocol's defaults
/// (0 on the wire).
struct RESTQuery {
    /// `page`, 1-based; 0 when absent.
    var page: UInt32 = 0
    /// `limit`; 0 when absent. Above ``PageRequest/maxLimit`` is left to the dispatcher, which
    /// refuses it as GetHistory does.
    var limit: UInt32 = 0
    /// `threshold` (repeated failures only); 0 when absent.
    var threshold: UInt32 = 0

    /// Reads a request's query parameters (percent-decoded), which may name only `allowed`.
    init(_ parameters: some Sequence<(key: Substring, value: Substring)>, allowed: [String]) throws(RESTError) {
        var seen: Set<String> = []
        for (key, value) in parameters {
            let name = String(key)
            guard allowed.contains(name) else {
                let known = allowed.map { "'\($0)'" }.joined(separator: ", ")
                throw .invalid(name, "unknown query parameter '\(name)': this route takes \(known)")
            }
            guard seen.insert(name).inserted else {
                throw .invalid(name, "query parameter '\(name)' is given more than once")
            }
            let number = try Self.number(name, String(value))
            switch name {
            case "page":
                page = number
            case "limit":
                guard number >= 1 else {
                    throw .invalid("limit", "limit must be between 1 and \(PageRequest.maxLimit), got \(number)")
                }
                limit = number
            default:
                threshold = number
            }
        }
    }

    /// A whole number from 1 to 4294967295.
    private static func number(_ name: String, _ text: String) throws(RESTError) -> UInt32 {
        guard !text.isEmpty, text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
            throw .invalid(name, "\(name) must be a whole number >= 1, got '\(text)'")
        }
        guard let number = UInt32(text) else {
            throw .invalid(name, "\(name) must be at most \(UInt32.max), got \(text)")
        }
        guard number >= 1 || name == "limit" else {
            throw .invalid(name, "\(name) must be a whole number >= 1, got 0")
        }
        return number
    }
}
