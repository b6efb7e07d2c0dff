import ArgumentParser
import Logging

/// The log output of the long-running commands (`serve`, `relay`): `--log-level` and
/// `--log-format text|json`, to standard error.
enum LogSetup {
    /// Bootstraps swift-log with `level` and `format`, and returns the `pisync` logger.
    /// - Throws: `ValidationError` naming the setting when either is not one it knows.
    static func bootstrap(level: String, format: String) throws -> Logger {
        guard let logLevel = Logger.Level(rawValue: level) else {
            throw ValidationError("log level '\(level)' is not one of trace, debug, info, notice, warning, error")
        }
        switch format {
        case "text":
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = logLevel
                return handler
            }
        case "json":
            LoggingSystem.bootstrap { label in
                var handler = JSONLogHandler(label: label)
                handler.logLevel = logLevel
                return handler
            }
        default:
            throw ValidationError("log format '\(format)' is not one of json, text")
        }
        return Logger(label: "pisync")
    }
}
