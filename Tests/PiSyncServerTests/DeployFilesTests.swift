import Foundation
import Testing

/// The files in deploy/ stay true to `pisync serve`: every setting they name exists, and the
/// example environment file's values are accepted by a real server.
@Suite("deploy/ files", .timeLimit(.minutes(1)))
struct DeployFilesTests {
    static let deploy = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("deploy")

    static func serveHelp() async throws -> String {
        try await ProgramRun.run(ServeProcess.executable, ["serve", "--help"]).output
    }

    @Test("every PISYNC_ variable of pisync.env and every flag of the unit's ExecStart is a serve setting")
    func namesExist() async throws {
        let help = try await Self.serveHelp()
        let env = try String(contentsOf: Self.deploy.appendingPathComponent("pisync.env"), encoding: .utf8)
        let variables = env.split(separator: "\n").compactMap { line -> String? in
            let text = line.trimmingCharacters(in: CharacterSet(charactersIn: "# "))
            guard text.hasPrefix("PISYNC_"), let equals = text.firstIndex(of: "=") else { return nil }
            return String(text[..<equals])
        }
        #expect(variables.count >= 10)
        for variable in variables {
            #expect(help.contains(variable), "\(variable) is not a serve setting")
        }
        let unit = try String(contentsOf: Self.deploy.appendingPathComponent("pisync.service"), encoding: .utf8)
        let execStart = try #require(unit.split(separator: "\n").first { $0.hasPrefix("ExecStart=") })
        let flags = execStart.split(separator: " ").filter { $0.hasPrefix("--") }
        #expect(flags.count >= 3)
        for flag in flags {
            #expect(help.contains(String(flag)), "\(flag) is not a serve flag")
        }
        for hardening in ["DynamicUser=yes", "StateDirectory=pisync", "ProtectSystem=strict"] {
            #expect(unit.contains(hardening))
        }
    }

    @Test("a server starts with pisync.env as its ./.env (on loopback, with a secret file)")
    func envFileIsAccepted() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.copyItem(at: Self.deploy.appendingPathComponent("pisync.env"), to: directory.appendingPathComponent(".env"))
        let secret = directory.appendingPathComponent("secret").path
        try Data("k1 deploy-test-secret-0123456789abcdef-0123\n".utf8).write(to: URL(fileURLWithPath: secret))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: secret)
        let server = try await ServeProcess(
            in: directory,
            arguments: ["--host", "127.0.0.1", "--data-dir", "data", "--auth-secret-file", secret, "--admin-port", "0"])
        #expect(server.log.contains("device_rate=100.0") && server.log.contains("alert_history=10000"), "\(server.log)")
        #expect(server.log.contains("admin port listening on http://127.0.0.1:"), "\(server.log)")
        #expect(try await server.stop() == 0)
    }
}
