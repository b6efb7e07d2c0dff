import Foundation
import Testing

/// `pisync serve` with TLS and the CLI's --tls, as real processes (issue 8).
@Suite("TLS, as processes", .timeLimit(.minutes(2)))
struct TLSProcessTests {
    @Test("the CLI talks to a TLS server with --tls-ca; a plain CLI is refused cleanly; a bad key file stops the start")
    func cliOverTLS() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try await ServeProcess(
            in: directory,
            arguments: ["--data-dir", "data", "--tls-cert", TLSFixtures.path("server.pem"), "--tls-key", TLSFixtures.path("server.key")])
        #expect(server.log.contains("tls=on"))
        let address = "127.0.0.1:\(server.port)"

        let overTLS = try await ProgramRun.run(ServeProcess.executable, ["ping", "--server", address, "--tls-ca", TLSFixtures.path("ca.pem")])
        #expect(overTLS.status == 0 && overTLS.output.contains("auth: off"), "\(overTLS.output)")
        let fromEnvironment = try await ProgramRun.run(
            ServeProcess.executable, ["ping", "--server", address], environment: ["PISYNC_TLS_CA": TLSFixtures.path("ca.pem")])
        #expect(fromEnvironment.status == 0, "\(fromEnvironment.output)")

        let untrusted = try await ProgramRun.run(ServeProcess.executable, ["ping", "--server", address, "--tls-ca", TLSFixtures.path("other-ca.pem")])
        #expect(untrusted.status == 2 && untrusted.output.contains("cannot connect"), "\(untrusted.output)")

        let started = ContinuousClock.now
        let plain = try await ProgramRun.run(ServeProcess.executable, ["ping", "--server", address])
        #expect(plain.status == 2 && plain.output.contains("--tls"), "\(plain.output)")
        #expect(ContinuousClock.now - started < .seconds(20))
        #expect(try await server.stop() == 0)

        let badKey = try await ServeProcess(
            in: directory,
            arguments: ["--data-dir", "data2", "--tls-cert", TLSFixtures.path("server.pem"), "--tls-key", TLSFixtures.path("ca.pem")],
            waitForListening: false)
        #expect(try await badKey.waitForExit() != 0)
        #expect(badKey.log.contains("TLS:") && badKey.log.contains("ca.pem"), "\(badKey.log)")
    }
}
