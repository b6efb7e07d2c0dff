/// A parsed JSON value, as ``JSONParser`` reads one document of an export.
///
/// Numbers keep their text, so that a count can be judged exactly (`12`, `12.0` and `1.2e1`
/// are whole, `12.5` is not) instead of through a `Double`.
enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    /// The number exactly as written, e.g. `"-1.5e3"`; the grammar has been checked.
    case number(String)
    case string(String)
    case array([JSONValue])
    /// Members by name; when a name repeats, the last one counts (as in JavaScript).
    case object([String: JSONValue])

    /// The kind of value, for error messages: "a string", "an object", "null".
    var kind: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// The value as a short piece of JSON for error messages, at most about 60 characters.
    var excerpt: String {
        let text: String
        switch self {
        case .null: text = "null"
        case .bool(let value): text = "\(value)"
        case .number(let number): text = number
        case .string(let string): text = "\"\(string)\""
        case .array(let items): text = "[\(items.map(\.excerpt).joined(separator: ","))]"
        case .object(let members):
            text = "{" + members.keys.sorted().map { "\"\($0)\":\(members[$0]?.excerpt ?? "")" }.joined(separator: ",") + "}"
        }
        return text.count > 60 ? String(text.prefix(57)) + "..." : text
    }
}
