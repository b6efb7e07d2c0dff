import ArgumentParser
import PiSyncAuth
import PiSyncStore

/// `pisync token`: mints a device or operator token from the server's secret file.
struct Token: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Mint a device or an operator token from the auth secret file.",
        discussion: """
            A token is pisync1.KEY_ID.ROLE.NAME.MAC: an HMAC-SHA256, under the first secret of \
            the file, over its key id, its role and the device id or operator name, so that \
            the server needs no token database. A device token records events of its own \
            device only; an operator token reads, subscribes and may record for any device. \
            The secret file holds lines KEY_ID SECRET (at least 32 bytes), mode 0600; put a new \
            line first to rotate: tokens under every listed key id stay valid. Keep the printed \
            token as secret as the file.
            """)

    @Option(help: "Mint a token for this device id.") var device: String?
    @Option(name: .customLong("operator"), help: "Mint an operator token for this name.") var operatorName: String?
    @Option(help: "The secret file (PISYNC_AUTH_SECRET_FILE).") var authSecretFile: String?

    func validate() throws {
        guard (device == nil) != (operatorName == nil) else {
            throw ValidationError("give one of --device ID and --operator NAME")
        }
        if let violation = EventValidator.deviceIDViolation(device ?? operatorName ?? "") {
            let flag = device != nil ? "--device" : "--operator"
            throw ValidationError("\(flag): \(violation.message)")
        }
    }

    func run() throws {
        guard let path = try SettingsSource.current().value(authSecretFile, "AUTH_SECRET_FILE") else {
            throw ValidationError("no secret file: give --auth-secret-file PATH or set PISYNC_AUTH_SECRET_FILE")
        }
        let secrets: AuthSecrets
        do {
            secrets = try AuthSecrets(contentsOf: path)
        } catch {
            throw ValidationError(error.description)
        }
        if let device {
            print(secrets.mint(role: .device, name: device))
        } else if let operatorName {
            print(secrets.mint(role: .operator_, name: operatorName))
        }
    }
}
