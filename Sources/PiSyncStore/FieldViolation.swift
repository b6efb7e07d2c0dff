/// Why a value of a request was refused: the field it came from and a readable reason.
public struct FieldViolation: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of refusal this is, in gRPC's terms.
    public enum Kind: Sendable, Hashable {
        /// The value is malformed or out of range (gRPC 3).
        case invalidArgument
        /// The value names something that does not exist (gRPC 5).
        case notFound
    }

    /// The kind of refusal.
    public var kind: Kind
    /// The offending field, as named in the protocol (`"timestamp"`, `"limit"`).
    public var field: String
    /// A sentence a person can act on.
    public var message: String

    /// Creates a violation.
    public init(_ kind: Kind = .invalidArgument, field: String, message: String) {
        self.kind = kind
        self.field = field
        self.message = message
    }

    public var description: String { "\(field): \(message)" }
}
