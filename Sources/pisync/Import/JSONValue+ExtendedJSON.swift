/// MongoDB Extended JSON (v2, relaxed and canonical, and v1's `$date` as a number), as
/// `mongoexport` writes numbers and dates.
extension JSONValue {
    /// The wrappers canonical mode puts around numbers: `{"$numberInt": "12"}`.
    static let numberWrappers: Set<String> = ["$numberInt", "$numberLong", "$numberDouble", "$numberDecimal"]

    /// The text of a number: a bare JSON number, or the string in a `$numberInt`,
    /// `$numberLong`, `$numberDouble` or `$numberDecimal` wrapper.
    var numberText: String? {
        switch self {
        case .number(let text):
            return text
        case .object(let members):
            guard members.count == 1, let member = members.first, Self.numberWrappers.contains(member.key),
                case .string(let text) = member.value
            else { return nil }
            return text
        default:
            return nil
        }
    }

    /// The value as an exact integer: `12`, `12.0`, `1.2e1` and `{"$numberLong": "12"}` are 12;
    /// `12.5`, NaN and numbers beyond Int64 are `nil`.
    var wholeNumber: Int64? {
        guard let text = numberText else { return nil }
        if let exact = Int64(text) { return exact }
        guard let double = Double(text), double.isFinite, double.rounded(.towardZero) == double,
            double >= -9.2e18, double <= 9.2e18
        else { return nil }
        return Int64(double)
    }

    /// The value as a `Double`, NaN and the infinities of `$numberDouble` included.
    var doubleValue: Double? {
        guard let text = numberText else { return nil }
        switch text {
        case "NaN": return .nan
        case "Infinity": return .infinity
        case "-Infinity": return -.infinity
        default: return Double(text)
        }
    }

    /// A date as Unix milliseconds: `{"$date": "2026-11-28T08:00:00.000Z"}` (relaxed),
    /// `{"$date": {"$numberLong": "1795852800000"}}` (canonical), `{"$date": 1795852800000}`
    /// (v1), and, for hand-made files, a bare ISO 8601 string or number of milliseconds.
    /// `nil` when the value is none of these or not a real date.
    var dateMillis: Int64? {
        switch self {
        case .string(let text):
            return ISOTimestamp.millis(text)
        case .number:
            return wholeNumber
        case .object(let members):
            guard members.count == 1, let date = members["$date"] else { return nil }
            switch date {
            case .string(let text): return ISOTimestamp.millis(text)
            case .number: return date.wholeNumber
            case .object(let inner) where inner.count == 1 && inner["$numberLong"] != nil: return date.wholeNumber
            default: return nil
            }
        default:
            return nil
        }
    }
}
