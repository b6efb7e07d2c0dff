import Foundation

/// The text form of a token: `pisync1.KEY_ID.ROLE.NAME.MAC`, with NAME and MAC in unpadded
/// base64url, and the MAC an HMAC-SHA256 over `pisync1\nKEY_ID\nROLE\nNAME` (the role and
/// the name inside the MAC, so neither can be changed).
struct Token {
    static let version = "pisync1"

    let keyID: String
    let role: Identity.Role
    let name: String
    let mac: [UInt8]

    init?(parsing text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == Self.version, Self.isValidKeyID(String(parts[1])),
            let role = Identity.Role(rawValue: String(parts[2])),
            let nameBytes = Self.base64URLDecode(parts[3]), let name = String(bytes: nameBytes, encoding: .utf8),
            !name.isEmpty, let mac = Self.base64URLDecode(parts[4]), mac.count == 32
        else { return nil }
        self.keyID = String(parts[1])
        self.role = role
        self.name = name
        self.mac = mac
    }

    static func format(keyID: String, role: Identity.Role, name: String, mac: [UInt8]) -> String {
        [version, keyID, role.rawValue, base64URLEncode(Array(name.utf8)), base64URLEncode(mac)].joined(separator: ".")
    }

    static func signedMessage(keyID: String, role: Identity.Role, name: String) -> [UInt8] {
        Array("\(version)\n\(keyID)\n\(role.rawValue)\n\(name)".utf8)
    }

    /// Key ids: 1 to 32 letters, digits, '-' and '_'.
    static func isValidKeyID(_ keyID: String) -> Bool {
        (1...32).contains(keyID.utf8.count)
            && keyID.utf8.allSatisfy { $0.isASCIILetterOrDigit || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
    }

    static func base64URLEncode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func base64URLDecode(_ text: Substring) -> [UInt8]? {
        guard text.utf8.allSatisfy({ $0.isASCIILetterOrDigit || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }) else {
            return nil
        }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64) else { return nil }
        // One encoding per token: re-encoding must give the text back.
        guard base64URLEncode(Array(data)) == text else { return nil }
        return Array(data)
    }
}

extension UInt8 {
    fileprivate var isASCIILetterOrDigit: Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self)
    }
}
