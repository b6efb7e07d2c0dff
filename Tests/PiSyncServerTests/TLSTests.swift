import Foundation
import NIOSSL
import PiSyncClient
import PiSyncProtocol
@testable import PiSyncServer
import NIOCore
import Testing

/// The throwaway certificates of Tests/Fixtures/tls (scripts/make-test-certs.sh).
enum TLSFixtures {
    static func path(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/tls/\(name)").path
    }

    static var server: ServerTLS {
        ServerTLS(certificateChainPath: path("server.pem"), privateKeyPath: path("server.key"))
    }

    static var mutual: ServerTLS {
        ServerTLS(certificateChainPath: path("server.pem"), privateKeyPath: path("server.key"), clientCAPath: path("ca.pem"))
    }

    /// A client configuration trusting `ca`, presenting `certificate` (a fixture name) if given.
    static func client(ca: String = "ca.pem", certificate: String? = nil) throws -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(path(ca)))
        if let certificate {
            configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(path("\(certificate).pem")).map { .certificate($0) }
            configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: path("\(certificate).key"), format: .pem))
        }
        return configuration
    }
}

/// TLS on the server's port, and mutual TLS where a device certificate names its device (issue 8).
@Suite("TLS", .timeLimit(.minutes(1)))
struct TLSTests {
    @Test("the Swift client talks to a TLS server, verifying it against the CA; by name and by address")
    func clientOverTLS() async throws {
        try await TestServer.with({ $0.tls = TLSFixtures.server }) { server in
            for host in ["127.0.0.1", "localhost"] {
                let client = try await PiSyncClient.connect(host: host, port: server.port, tls: try TLSFixtures.client())
                defer { client.close() }
                #expect(try await client.recordSync(deviceID: "pibook-1", events: [AuthFixtures.event(secondsAgo: host == "localhost" ? 5 : 6)]).accepted == 1)
            }
        }
    }

    @Test("a plain client against a TLS server is refused cleanly: closed at once, and the server serves on")
    func plainClientRefused() async throws {
        try await TestServer.with({ $0.tls = TLSFixtures.server }) { server in
            let raw = try await RawConnection.connect(port: server.port)
            try await raw.send(AuthFixtures.record(1, device: "pibook-1", [AuthFixtures.event()]))  // plain TCP
            let started = ContinuousClock.now
            let answer = try? await raw.next()
            #expect(answer == nil, "no protocol answer in plain text")
            #expect(ContinuousClock.now - started < .seconds(5))
            let client = try await PiSyncClient.connect(host: "127.0.0.1", port: server.port, tls: try TLSFixtures.client())
            defer { client.close() }
            #expect(try await client.ping().version.isEmpty == false)
        }
    }

    @Test("a TLS client against a plain server, or one that does not trust the server's CA, fails at connect with a clear error")
    func handshakeFailures() async throws {
        _ = try await TestServer.with { server in
            await #expect(throws: (any Error).self) {
                _ = try await PiSyncClient.connect(host: "127.0.0.1", port: server.port, connectTimeout: .seconds(3), tls: try TLSFixtures.client())
            }
        }
        try await TestServer.with({ $0.tls = TLSFixtures.server }) { server in
            do {
                _ = try await PiSyncClient.connect(host: "127.0.0.1", port: server.port, tls: try TLSFixtures.client(ca: "other-ca.pem"))
                Issue.record("a server certificate from an untrusted CA was accepted")
            } catch let error as NIOSSLError {
                #expect("\(error)".contains("handshakeFailed"), "\(error)")
            }
        }
    }

    @Test("mutual TLS: a device certificate's name is the connection's device; no certificate means a token is needed; another CA's certificate is refused")
    func mutualTLS() async throws {
        try await TestServer.with({ $0.tls = TLSFixtures.mutual; $0.authSecrets = AuthFixtures.secrets }) { server in
            let device = try await PiSyncClient.connect(host: "127.0.0.1", port: server.port, tls: try TLSFixtures.client(certificate: "device"))
            defer { device.close() }
            #expect(try await device.recordSync(events: [AuthFixtures.event(secondsAgo: 3)]).accepted == 1)
            do {
                _ = try await device.recordSync(deviceID: "pibook-other", events: [AuthFixtures.event()])
                Issue.record("a device certificate wrote another device")
            } catch let error as PiSyncError {
                #expect(error.status == .permissionDenied && error.field == "device_id")
            }
            do {
                _ = try await device.history(deviceID: "pibook-tls")
                Issue.record("a device certificate read a history")
            } catch let error as PiSyncError {
                #expect(error.status == .permissionDenied)
            }
            // An operator token takes over from the certificate's identity.
            #expect(try await device.authenticate(token: AuthFixtures.token(operator: "ops")).role == "operator")
            #expect(try await device.history(deviceID: "pibook-tls").total == 1)

            let anonymous = try await PiSyncClient.connect(host: "127.0.0.1", port: server.port, tls: try TLSFixtures.client())
            defer { anonymous.close() }
            do {
                _ = try await anonymous.ping()
                Issue.record("a connection without certificate or token was served")
            } catch let error as PiSyncError {
                #expect(error.status == .unauthenticated)
            }

            await #expect(throws: (any Error).self) {
                let stranger = try await PiSyncClient.connect(
                    host: "127.0.0.1", port: server.port, connectTimeout: .seconds(3), tls: try TLSFixtures.client(certificate: "stranger"))
                defer { stranger.close() }
                // TLS 1.3: the server's refusal of the certificate may arrive after the client's handshake.
                _ = try await stranger.ping()
            }
        }
    }

    // Regression (review): a connection turned away on a TLS port got the TLS handler before
    // the rejecter, whose notice then waited for a handshake that never came: the connection
    // stayed open, outside every limit, and held up shutdown.
    @Test("on a TLS port a connection over the per-address limit is turned away at once, in plain TCP")
    func rejectedBeforeTLS() async throws {
        try await TestServer.with({ $0.tls = TLSFixtures.server; $0.maxConnectionsPerPeer = 1 }) { server in
            let admitted = try await PiSyncClient.connect(host: "127.0.0.1", port: server.port, tls: try TLSFixtures.client())
            defer { admitted.close() }
            let started = ContinuousClock.now
            let turnedAway = try await RawConnection.connect(port: server.port)
            let notice = try await turnedAway.next()
            #expect(notice?.error.code == StatusCode.resourceExhausted.rawValue)
            #expect(try await turnedAway.next() == nil)
            #expect(ContinuousClock.now - started < .seconds(3))
            #expect(try await admitted.ping().version.isEmpty == false)
        }
    }

    @Test("with client certificates only, Authenticate says so instead of claiming auth is off")
    func certificatesOnly() async throws {
        try await TestServer.with({ $0.tls = TLSFixtures.mutual }) { server in
            let client = try await PiSyncClient.connect(host: "127.0.0.1", port: server.port, tls: try TLSFixtures.client())
            defer { client.close() }
            do {
                try await client.authenticate(token: AuthFixtures.token(operator: "ops"))
                Issue.record("a token was accepted by a server without token secrets")
            } catch let error as PiSyncError {
                #expect(error.status == .unauthenticated && error.message.contains("client certificates only"))
            }
        }
        var configuration = ServerConfiguration()
        configuration.tls = TLSFixtures.mutual
        #expect(configuration.description.contains("auth=on(client_certificates)"))
    }

    @Test("connections are counted by IPv4 address and by IPv6 /64")
    func peerKeys() throws {
        #expect(OpenConnections.peerKey(try SocketAddress(ipAddress: "10.1.2.3", port: 5)) == "10.1.2.3")
        let a = OpenConnections.peerKey(try SocketAddress(ipAddress: "2001:db8:1:2:aaaa::1", port: 5))
        let b = OpenConnections.peerKey(try SocketAddress(ipAddress: "2001:db8:1:2:bbbb::7", port: 6))
        #expect(a == b && a == "2001:db8:1:2::/64")
        #expect(OpenConnections.peerKey(try SocketAddress(ipAddress: "2001:db8:1:3::1", port: 5)) != a)
        #expect(OpenConnections.peerKey(try SocketAddress(ipAddress: "::1", port: 5)) == "::1")
    }
}
