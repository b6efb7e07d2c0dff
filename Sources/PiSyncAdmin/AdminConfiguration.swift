/// Where the admin HTTP port listens and what it serves.
///
/// The port is off unless `serve --admin-port` is given; it binds to loopback by default.
public struct AdminConfiguration: Sendable, Equatable {
    /// The address to bind (`--admin-host`), loopback unless told otherwise.
    public var host: String
    /// The TCP port (`--admin-port`); 0 picks a free port.
    public var port: Int
    /// Whether the REST gateway is mounted on the port (`--rest`).
    public var rest = false

    /// The default admin host: loopback only.
    public static let defaultHost = "127.0.0.1"

    /// Creates a configuration for `host:port`.
    public init(host: String = AdminConfiguration.defaultHost, port: Int) {
        self.host = host
        self.port = port
    }
}
