import Logging

/// Renders every message and its metadata, at every level, and drops them: the server's log
/// lines (which interpolate errors and peer input) run, and nothing is printed per input.
struct DiscardingLogHandler: LogHandler {
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var rendered = event.message.description
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
            rendered += " \(key)=\(value)"
        }
        _ = rendered
    }
}
