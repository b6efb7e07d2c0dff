import Foundation
import PiSyncAuth
import Testing

/// `pisync serve` and the CLI with auth, as real processes (issue 8): protected mode, and the
/// client commands' --token-file / PISYNC_TOKEN_FILE.
@Suite("Auth, as processes", .timeLimit(.minutes(2)))
struct AuthProcessTests {
    /// A secret file (mode 0600) in `directory`, and tokens minted from it.
    static func secretFile(in directory: URL) throws -> (path: String, secrets: AuthSecrets) {
        let path = directory.appendingPathComponent("secret").path
        try Data("k1 process-test-secret-0123456789abcdef-0123\n".utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        return (path, try AuthSecrets(contentsOf: path))
    }

    static func waitForLog(_ server: ServeProcess, _ text: String) async throws -> Bool {
        await eventually(timeout: .seconds(20)) { server.log.contains(text) || !server.process.isRunning }
            && server.log.contains(text)
    }

    @Test("protected mode: a non-loopback bind with auth off refuses to start, and says how to turn auth on")
    func protectedMode() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let refused = try await ServeProcess(
            in: directory, arguments: ["--host", "0.0.0.0", "--data-dir", "data"], waitForListening: false)
        #expect(try await refused.waitForExit() != 0)
        #expect(refused.log.contains("protected mode"), "\(refused.log)")
        #expect(refused.log.contains("--auth-secret-file") && refused.log.contains("--allow-unauthenticated"))
        #expect(!refused.log.contains("listening on"))

        let allowed = try await ServeProcess(
            in: directory, arguments: ["--host", "0.0.0.0", "--data-dir", "data2", "--allow-unauthenticated"],
            waitForListening: false)
        #expect(try await Self.waitForLog(allowed, "listening on 0.0.0.0:"), "\(allowed.log)")
        #expect(try await allowed.stop() == 0)

        let (secretPath, _) = try Self.secretFile(in: directory)
        let withAuth = try await ServeProcess(
            in: directory, arguments: ["--host", "0.0.0.0", "--data-dir", "data3", "--auth-secret-file", secretPath],
            waitForListening: false)
        #expect(try await Self.waitForLog(withAuth, "listening on 0.0.0.0:"), "\(withAuth.log)")
        #expect(withAuth.log.contains("auth=on(key_ids=k1)"))
        #expect(!withAuth.log.contains("process-test-secret"), "the secret is never logged")
        #expect(try await withAuth.stop() == 0)
    }

    @Test("the CLI authenticates from --token-file or PISYNC_TOKEN_FILE; without one it says how")
    func cliTokenFile() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (secretPath, secrets) = try Self.secretFile(in: directory)
        let server = try await ServeProcess(
            in: directory, arguments: ["--data-dir", "data", "--auth-secret-file", secretPath])
        let address = "127.0.0.1:\(server.port)"
        let operatorToken = directory.appendingPathComponent("operator.token").path
        try Data((secrets.mint(role: .operator_, name: "ops") + "\n").utf8).write(to: URL(fileURLWithPath: operatorToken))
        let deviceToken = directory.appendingPathComponent("device.token").path
        try Data(secrets.mint(role: .device, name: "pibook-1").utf8).write(to: URL(fileURLWithPath: deviceToken))

        let bare = try await ProgramRun.run(ServeProcess.executable, ["ping", "--server", address])
        #expect(bare.status == 1)
        #expect(bare.output.contains("UNAUTHENTICATED") && bare.output.contains("--token-file"), "\(bare.output)")

        let withFlag = try await ProgramRun.run(ServeProcess.executable, ["ping", "--server", address, "--token-file", operatorToken])
        #expect(withFlag.status == 0, "\(withFlag.output)")
        let withEnv = try await ProgramRun.run(
            ServeProcess.executable, ["ping", "--server", address], environment: ["PISYNC_TOKEN_FILE": operatorToken])
        #expect(withEnv.status == 0, "\(withEnv.output)")

        let record = try await ProgramRun.run(
            ServeProcess.executable,
            ["record", "--server", address, "--token-file", deviceToken, "--device", "pibook-1", "--files", "2", "--errors", "0", "--speed", "5"])
        #expect(record.status == 0, "\(record.output)")
        let otherDevice = try await ProgramRun.run(
            ServeProcess.executable,
            ["record", "--server", address, "--token-file", deviceToken, "--device", "pibook-2", "--files", "2", "--errors", "0", "--speed", "5"])
        #expect(otherDevice.status == 1 && otherDevice.output.contains("PERMISSION_DENIED"), "\(otherDevice.output)")
        let read = try await ProgramRun.run(
            ServeProcess.executable, ["history", "pibook-1", "--server", address, "--token-file", deviceToken])
        #expect(read.status == 1 && read.output.contains("PERMISSION_DENIED"), "\(read.output)")
        let operatorRead = try await ProgramRun.run(
            ServeProcess.executable, ["history", "pibook-1", "--server", address, "--token-file", operatorToken])
        #expect(operatorRead.status == 0 && operatorRead.output.contains("success"), "\(operatorRead.output)")
        #expect(try await server.stop() == 0)
    }
}
