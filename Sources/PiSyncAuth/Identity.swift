/// Who a verified token speaks for.
public struct Identity: Sendable, Hashable {
    /// What the token allows.
    public enum Role: String, Sendable, CaseIterable {
        /// RecordSync of its own device's events only.
        case device
        /// Reads, subscriptions, cancel, and RecordSync for any device (an importer, say).
        case operator_ = "operator"
    }

    /// The token's role.
    public var role: Role
    /// The device id of a device token, the operator's name of an operator token.
    public var name: String
    /// The key id of the secret the token was made under.
    public var keyID: String

    /// Creates an identity.
    public init(role: Role, name: String, keyID: String) {
        self.role = role
        self.name = name
        self.keyID = keyID
    }
}
