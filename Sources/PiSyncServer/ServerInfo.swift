/// Facts about this build of the server.
public enum ServerInfo {
    /// The version reported by Ping.
    public static let version = "0.1.0"
}
