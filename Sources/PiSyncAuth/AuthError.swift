/// Why a secret file or a token was refused. Messages never contain a secret or a MAC.
public enum AuthError: Error, Equatable, CustomStringConvertible {
    /// The secret file could not be read.
    case unreadableSecretFile(path: String, reason: String)
    /// The secret file may be read by other users.
    case secretFileTooOpen(path: String, mode: UInt32)
    /// A line of the secret file is not `KEY_ID SECRET`, or the secret is too short.
    case malformedSecretFile(path: String, line: Int, reason: String)
    /// The token is not of the form `pisync1.KEY_ID.ROLE.NAME.MAC`.
    case malformedToken
    /// The token names a key id no configured secret has.
    case unknownKey(String)
    /// The MAC does not match: the token was altered or made under another secret.
    case badSignature

    public var description: String {
        switch self {
        case .unreadableSecretFile(let path, let reason):
            "cannot read the auth secret file \(path): \(reason)"
        case .secretFileTooOpen(let path, let mode):
            "the auth secret file \(path) may be read by other users (mode \(String(mode, radix: 8))); run chmod 600 \(path)"
        case .malformedSecretFile(let path, let line, let reason):
            "the auth secret file \(path), line \(line): \(reason)"
        case .malformedToken:
            "the token is not a pisync token (pisync1.KEY_ID.ROLE.NAME.MAC)"
        case .unknownKey(let keyID):
            "the token was made under key id '\(keyID)', which this server does not have"
        case .badSignature:
            "the token's signature does not match"
        }
    }
}
