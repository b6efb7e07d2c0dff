import Crypto
import Foundation

/// The server's token secrets, each under a key id, from a file that only its owner may read.
///
/// The file holds one secret per line, `KEY_ID SECRET` (`#` starts a comment). Tokens are minted
/// under the first; every listed secret verifies the tokens made under its key id, so a secret
/// is rotated by putting a new line first and removing the old line once its tokens are
/// replaced. No token database: a token carries its role and name, and the MAC binds them.
public struct AuthSecrets: Sendable {
    /// The shortest secret accepted, in bytes: 256 bits, HMAC-SHA256's block of strength.
    public static let minimumSecretLength = 32

    /// Key ids in file order; the first mints.
    public var keyIDs: [String] { secrets.map(\.keyID) }
    private let secrets: [(keyID: String, secret: [UInt8])]

    /// Secrets given directly (tests); the first mints. There must be at least one.
    public init(_ secrets: [(keyID: String, secret: [UInt8])]) {
        precondition(!secrets.isEmpty, "AuthSecrets needs at least one secret")
        self.secrets = secrets
    }

    /// Reads `path`, refusing a file that its group or others may read or write. With
    /// `groupReadable` (a systemd credential: a read-only file whose group bits show the ACL
    /// that lets the service's user read it), group read access is accepted; others' never.
    /// - Throws: ``AuthError`` naming the path and line, never the secret.
    public init(contentsOf path: String, groupReadable: Bool = false) throws(AuthError) {
        let attributes: [FileAttributeKey: Any]
        let data: Data
        do {
            attributes = try FileManager.default.attributesOfItem(atPath: path)
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .unreadableSecretFile(path: path, reason: (error as NSError).localizedDescription)
        }
        let mode = (attributes[.posixPermissions] as? NSNumber)?.uint32Value ?? 0o777
        guard mode & (groupReadable ? 0o037 : 0o077) == 0 else { throw .secretFileTooOpen(path: path, mode: mode) }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .malformedSecretFile(path: path, line: 1, reason: "not UTF-8 text")
        }
        var secrets: [(keyID: String, secret: [UInt8])] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
            guard fields.count == 2, let keyID = fields.first.map(String.init), Token.isValidKeyID(keyID) else {
                throw .malformedSecretFile(
                    path: path, line: index + 1, reason: "expected KEY_ID SECRET, the key id of letters, digits, '-' and '_'")
            }
            let secret = Array(fields[1].trimmingCharacters(in: .whitespaces).utf8)
            // The key id is not named: a line written the wrong way round would put the secret
            // where the key id goes.
            guard secret.count >= Self.minimumSecretLength else {
                throw .malformedSecretFile(
                    path: path, line: index + 1, reason: "the secret is shorter than \(Self.minimumSecretLength) bytes")
            }
            guard !secrets.contains(where: { $0.keyID == keyID }) else {
                throw .malformedSecretFile(path: path, line: index + 1, reason: "the key id is listed twice")
            }
            secrets.append((keyID, secret))
        }
        guard !secrets.isEmpty else { throw .malformedSecretFile(path: path, line: 1, reason: "no secret") }
        self.init(secrets)
    }

    /// Mints a token for `role` and `name` under the first key.
    public func mint(role: Identity.Role, name: String) -> String {
        let (keyID, secret) = secrets[0]
        let message = Token.signedMessage(keyID: keyID, role: role, name: name)
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: secret))
        return Token.format(keyID: keyID, role: role, name: name, mac: Array(mac))
    }

    /// Checks `token`'s MAC, in constant time, under the secret of its key id.
    /// - Throws: ``AuthError`` (malformed, unknown key id, bad signature).
    public func verify(_ token: String) throws(AuthError) -> Identity {
        guard let parsed = Token(parsing: token) else { throw .malformedToken }
        guard let secret = secrets.first(where: { $0.keyID == parsed.keyID })?.secret else {
            throw .unknownKey(parsed.keyID)
        }
        let message = Token.signedMessage(keyID: parsed.keyID, role: parsed.role, name: parsed.name)
        let key = SymmetricKey(data: secret)
        guard HMAC<SHA256>.isValidAuthenticationCode(parsed.mac, authenticating: message, using: key) else {
            throw .badSignature
        }
        return Identity(role: parsed.role, name: parsed.name, keyID: parsed.keyID)
    }
}
