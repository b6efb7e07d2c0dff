import ArgumentParser
import Foundation

/// Where `pisync serve` reads a setting from (and the client commands their server address):
/// its flag, else `PISYNC_<NAME>` in the environment, else `PISYNC_<NAME>` in a `.env` file in
/// the working directory.
struct SettingsSource {
    let environment: [String: String]
    let dotEnv: [String: String]

    /// Reads the process environment and `./.env` (absent is fine).
    static func current() throws -> SettingsSource {
        let path = FileManager.default.currentDirectoryPath + "/.env"
        var dotEnv: [String: String] = [:]
        if FileManager.default.fileExists(atPath: path) {
            dotEnv = try parseDotEnv(String(contentsOfFile: path, encoding: .utf8))
        }
        return SettingsSource(environment: ProcessInfo.processInfo.environment, dotEnv: dotEnv)
    }

    /// Like ``current()``, for optional client settings: a `.env` that does not parse counts as
    /// setting nothing (it may be another tool's), where `current()` would fail the command.
    static func lenient() -> SettingsSource {
        (try? current()) ?? SettingsSource(environment: ProcessInfo.processInfo.environment, dotEnv: [:])
    }

    /// The text of setting `name`: the flag, else `PISYNC_<NAME>` from the environment, else
    /// from `.env`; empty counts as unset.
    func text(_ flag: String?, _ name: String) -> String? {
        (flag ?? environment["PISYNC_" + name] ?? dotEnv["PISYNC_" + name]).flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The setting `name` (e.g. `PORT`): the flag's value if given, else the environment's,
    /// else the `.env` file's, else `nil`.
    func value<Value: LosslessStringConvertible>(_ flag: Value?, _ name: String) throws -> Value? {
        if let flag { return flag }
        let key = "PISYNC_" + name
        for (origin, values) in [("environment", environment), (".env", dotEnv)] {
            guard let text = values[key] else { continue }
            guard let value = Value(text.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("\(key)='\(text)' in the \(origin) is not a valid \(Value.self)")
            }
            return value
        }
        return nil
    }

    /// Parses `KEY=VALUE` lines; blank lines and `#` comments are skipped, `export ` is
    /// allowed, and a value may be wrapped in single or double quotes.
    static func parseDotEnv(_ text: String) throws -> [String: String] {
        var values: [String: String] = [:]
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst(7)) }
            guard let equals = line.firstIndex(of: "=") else {
                throw ValidationError(".env line \(number + 1) is not KEY=VALUE: \(line)")
            }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            var value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = String(value.dropFirst().dropLast())
            }
            values[key] = value
        }
        return values
    }
}
