import ArgumentParser
import Foundation
import PiSyncClient

/// Options every client subcommand shares.
struct ClientOptions: ParsableArguments {
    @Option(name: .long, help: "Server address as host:port (default: PISYNC_SERVER from the environment, else from ./.env, else 127.0.0.1:7878).")
    var server: String?

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

    /// Connects, runs `body`, and turns failures into a printed error and a non-zero exit.
    func withClient(_ body: (PiSyncClient) async throws -> Void) async throws {
        let (host, port) = try address()
        let client: PiSyncClient
        do {
            client = try await PiSyncClient.connect(host: host, port: port, connectTimeout: .seconds(5))
        } catch {
            printError("cannot connect to \(host):\(port): \(error)")
            throw ExitCode(2)
        }
        defer { client.close() }
        do {
            try await body(client)
        } catch let error as PiSyncError {
            printError("server error: \(error)")
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
