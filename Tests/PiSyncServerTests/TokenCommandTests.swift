import Foundation
import Testing

/// `pisync token` mints tokens from a private secret file, and refuses an open one.
@Suite("pisync token")
struct TokenCommandTests {
    @Test("mints device and operator tokens; refuses a secret file others may read, without echoing it")
    func mint() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("secret").path
        let secret = "0123456789abcdef0123456789abcdef-pisync"
        try Data("k1 \(secret)\n".utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)

        let device = try await ProgramRun.run(ServeProcess.executable, ["token", "--device", "pibook-1", "--auth-secret-file", path])
        #expect(device.status == 0 && device.output.hasPrefix("pisync1.k1.device."), "\(device.output)")
        let operatorRun = try await ProgramRun.run(ServeProcess.executable, ["token", "--operator", "ops", "--auth-secret-file", path])
        #expect(operatorRun.status == 0 && operatorRun.output.hasPrefix("pisync1.k1.operator."), "\(operatorRun.output)")

        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        let open = try await ProgramRun.run(ServeProcess.executable, ["token", "--device", "pibook-1", "--auth-secret-file", path])
        #expect(open.status != 0 && open.output.contains("chmod 600"), "\(open.output)")
        #expect(!open.output.contains(secret))
    }
}
