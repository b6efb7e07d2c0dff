import Foundation
import PiSyncAuth
import Testing

/// Device and operator tokens: minted from a secret, bound to their role and name, rotatable
/// by key id, and refused when altered.
@Suite("Tokens")
struct TokenTests {
    static let current = (keyID: "k2", secret: Array("a-new-secret-that-is-long-enough-123".utf8))
    static let old = (keyID: "k1", secret: Array("an-old-secret-that-is-long-enough-45".utf8))

    @Test("a device token verifies as that device, an operator token as that operator")
    func roundTrip() throws {
        let secrets = AuthSecrets([Self.current])
        let device = secrets.mint(role: .device, name: "pibook-0042")
        #expect(device.hasPrefix("pisync1.k2.device."))
        #expect(try secrets.verify(device) == Identity(role: .device, name: "pibook-0042", keyID: "k2"))
        let operatorToken = secrets.mint(role: .operator_, name: "ops-anna")
        #expect(try secrets.verify(operatorToken) == Identity(role: .operator_, name: "ops-anna", keyID: "k2"))
    }

    @Test("a token for device A cannot be turned into one for device B, or into an operator's")
    func boundToNameAndRole() throws {
        let secrets = AuthSecrets([Self.current])
        let token = secrets.mint(role: .device, name: "pibook-A")
        var parts = token.split(separator: ".").map(String.init)
        parts[3] = Data("pibook-B".utf8).base64EncodedString().replacingOccurrences(of: "=", with: "")
        #expect(throws: AuthError.badSignature) { try secrets.verify(parts.joined(separator: ".")) }
        parts = token.split(separator: ".").map(String.init)
        parts[2] = "operator"
        #expect(throws: AuthError.badSignature) { try secrets.verify(parts.joined(separator: ".")) }
    }

    @Test("a tampered MAC, a foreign secret or a malformed token is refused")
    func tampered() throws {
        let secrets = AuthSecrets([Self.current])
        let token = secrets.mint(role: .device, name: "pibook-1")
        var bytes = Array(token.utf8)
        bytes[bytes.count - 2] = bytes[bytes.count - 2] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(throws: AuthError.self) { try secrets.verify(String(decoding: bytes, as: UTF8.self)) }
        let foreign = AuthSecrets([(keyID: "k2", secret: Array("somebody-elses-secret-of-32-bytes!!".utf8))])
        #expect(throws: AuthError.badSignature) { try secrets.verify(foreign.mint(role: .device, name: "pibook-1")) }
        for bad in ["", "pisync1", "pisync1.k2.device.cGk.", "pisync2.k2.device.cGk.AAAA", token + ".x", "pisync1.k2.admin.cGk.AAAA"] {
            #expect(throws: AuthError.malformedToken) { try secrets.verify(bad) }
        }
    }

    @Test("after a rotation, tokens under the old key id verify while both are configured")
    func rotation() throws {
        let before = AuthSecrets([Self.old])
        let oldToken = before.mint(role: .device, name: "pibook-7")
        let during = AuthSecrets([Self.current, Self.old])
        #expect(try during.verify(oldToken).keyID == "k1")
        #expect(during.mint(role: .device, name: "pibook-7").hasPrefix("pisync1.k2."))
        let after = AuthSecrets([Self.current])
        #expect(throws: AuthError.unknownKey("k1")) { try after.verify(oldToken) }
    }

    @Test("the secret file must be private, well formed, and its secrets long enough")
    func secretFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pisync-auth-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("secret").path
        func write(_ text: String, mode: Int) throws {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        }
        let secretText = String(decoding: Self.current.secret, as: UTF8.self)
        try write("# rotated 2026-12\nk2 \(secretText)\nk1 \(String(decoding: Self.old.secret, as: UTF8.self))\n", mode: 0o600)
        let secrets = try AuthSecrets(contentsOf: path)
        #expect(secrets.keyIDs == ["k2", "k1"])
        #expect(try secrets.verify(AuthSecrets([Self.old]).mint(role: .device, name: "d")).keyID == "k1")

        try write("k2 \(secretText)\n", mode: 0o644)
        #expect(throws: AuthError.secretFileTooOpen(path: path, mode: 0o644)) { try AuthSecrets(contentsOf: path) }
        do {
            _ = try AuthSecrets(contentsOf: path)
        } catch {
            #expect(!error.description.contains(secretText), "the error must not echo the secret")
            #expect(error.description.contains("chmod 600"))
        }
        try write("k2 too-short\n", mode: 0o600)
        #expect(throws: AuthError.self) { try AuthSecrets(contentsOf: path) }
        try write("k2 \(secretText)\nk2 \(secretText)\n", mode: 0o400)
        #expect(throws: AuthError.self) { try AuthSecrets(contentsOf: path) }
        try write("\n# nothing\n", mode: 0o600)
        #expect(throws: AuthError.self) { try AuthSecrets(contentsOf: path) }

        // Regression: a line written the wrong way round (a hex secret, then the key id) put the
        // secret where the key id goes, and the error named it.
        let hexSecret = "0123456789abcdef0123456789abcdef"
        try write("\(hexSecret) k1\n", mode: 0o600)
        do {
            _ = try AuthSecrets(contentsOf: path)
            Issue.record("a secret file with a 2-byte secret was accepted")
        } catch {
            #expect(!error.description.contains(hexSecret), "\(error.description)")
            #expect(error.description.contains("line 1"))
        }
        try write("\(hexSecret) \(secretText)\n\(hexSecret) \(secretText)\n", mode: 0o600)
        do {
            _ = try AuthSecrets(contentsOf: path)
            Issue.record("a key id listed twice was accepted")
        } catch {
            #expect(!error.description.contains(hexSecret), "\(error.description)")
        }
    }

    // Regression (review): systemd's LoadCredential= file of a DynamicUser service reads as
    // mode 0440 (its ACL shows in the group bits), and the server refused it.
    @Test("a credential's group read bit is accepted when asked; others' bits never are")
    func credentialMode() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pisync-cred-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("secret").path
        try Data("k1 \(String(decoding: Self.current.secret, as: UTF8.self))\n".utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: 0o440], ofItemAtPath: path)
        #expect(throws: AuthError.self) { try AuthSecrets(contentsOf: path) }
        #expect(try AuthSecrets(contentsOf: path, groupReadable: true).keyIDs == ["k1"])
        try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: path)
        #expect(throws: AuthError.self) { try AuthSecrets(contentsOf: path, groupReadable: true) }
    }
}
