import ArgumentParser
import Foundation
import NIOSSL
import PiSyncClient

/// Options every client subcommand shares.
struct ClientOptions: ParsableArguments {
    @Option(name: .long, help: "Server address as host:port (default: PISYNC_SERVER from the environment, else from ./.env, else 127.0.0.1:7878).")
    var server: String?

    @Option(name: .long, help: "File holding the token to authenticate with (default: PISYNC_TOKEN_FILE); needed when the server has auth on.")
    var tokenFile: String?

    @Flag(name: .long, help: "Connect over TLS (default: PISYNC_TLS=true), verifying the server against --tls-ca or the system's CAs.")
    var tls = false

    @Option(name: .long, help: "PEM CA file to verify the server's certificate with; implies --tls (default: PISYNC_TLS_CA).")
    var tlsCa: String?

    @Option(name: .long, help: "PEM client certificate for mutual TLS (default: PISYNC_TLS_CERT); needs --tls-key.")
    var tlsCert: String?

    @Option(name: .long, help: "PEM private key of --tls-cert (default: PISYNC_TLS_KEY).")
    var tlsKey: String?

    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false

    /// The server's host and port: --server, else PISYNC_SERVER from the environment, else
    /// from `./.env`, the same order `pisync serve` reads its settings in.
    func address() throws -> (host: String, port: Int) {
        // The flag first: a `.env` that does not parse only matters when it is consulted.
        let text = try server ?? SettingsSource.current().value(nil as String?, "SERVER") ?? "127.0.0.1:7878"
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (1...65535).contains(port), colon != text.startIndex
        else {
            throw ValidationError("server address '\(text)' is not host:port")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host, port)
    }

    /// The token from --token-file or PISYNC_TOKEN_FILE (environment, else ./.env), if either
    /// is given. A `.env` that does not parse counts as not setting it: it may be another tool's.
    func token(_ settings: SettingsSource = .lenient()) throws -> String? {
        guard let path = settings.text(tokenFile, "TOKEN_FILE") else { return nil }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ValidationError("cannot read the token file \(path): \((error as NSError).localizedDescription)")
        }
        let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { throw ValidationError("the token file \(path) is empty") }
        return token
    }

    /// The TLS configuration the flags and PISYNC_TLS* ask for, or `nil` for plain TCP.
    func tlsConfiguration(_ settings: SettingsSource = .lenient()) throws -> TLSConfiguration? {
        let ca = settings.text(tlsCa, "TLS_CA")
        let cert = settings.text(tlsCert, "TLS_CERT")
        let key = settings.text(tlsKey, "TLS_KEY")
        let enabled = tls || ca != nil || cert != nil || ["true", "1", "yes"].contains(settings.text(nil, "TLS")?.lowercased() ?? "")
        guard enabled else { return nil }
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        do {
            if let ca { configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(ca)) }
            switch (cert, key) {
            case (let cert?, let key?):
                configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(cert).map { .certificate($0) }
                configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
            case (nil, nil):
                break
            default:
                throw ValidationError("give both --tls-cert and --tls-key, or neither")
            }
        } catch let error as ValidationError {
            throw error
        } catch {
            throw ValidationError("cannot load the TLS files: \(error)")
        }
        return configuration
    }

    /// Connects (and authenticates, with a token), runs `body`, and turns failures into a
    /// printed error and a non-zero exit.
    func withClient(_ body: (PiSyncClient) async throws -> Void) async throws {
        let (host, port) = try address()
        let settings = SettingsSource.lenient()
        let token = try token(settings)
        let tls = try tlsConfiguration(settings)
        let client: PiSyncClient
        do {
            client = try await PiSyncClient.connect(host: host, port: port, connectTimeout: .seconds(5), tls: tls)
        } catch {
            printError(ConnectFailure.message(host: host, port: port, timeout: .seconds(5), error))
            throw ExitCode(2)
        }
        defer { client.close() }
        do {
            if let token { try await client.authenticate(token: token) }
            try await body(client)
        } catch let error as PiSyncError {
            if error.status == .unauthenticated, token == nil {
                printError("server error: \(error)\n  this server has auth on: give --token-file PATH or set PISYNC_TOKEN_FILE")
            } else {
                printError("server error: \(error)")
            }
            throw ExitCode(1)
        } catch let error as PiSyncClientError {
            printError("\(error)")
            throw ExitCode(2)
        }
    }
}

/// Writes a line to standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data(("error: " + message + "\n").utf8))
}
