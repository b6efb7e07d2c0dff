import AsyncHTTPClient
import Foundation
import Testing

/// Replays the curl examples of docs/operations.md's "The REST gateway" (the seed README's
/// examples) against a fresh server and checks each documented answer, so that the doc stays
/// true.
@Suite("REST gateway: the documented curl examples", .timeLimit(.minutes(3)))
struct RESTReadmeReplayTests {
    /// One `$ curl ...` line of the doc and the output written under it.
    struct Example {
        var command: String
        var output: String
    }

    /// The section's ```console blocks, as commands and outputs.
    static func examples() throws -> [Example] {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/operations.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        let start = try #require(text.range(of: "\n## The REST gateway\n"))
        let rest = text[start.upperBound...]
        let section = rest[..<(rest.range(of: "\n## ")?.lowerBound ?? rest.endIndex)]
        var examples: [Example] = []
        var inConsole = false
        for line in section.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") {
                inConsole = line == "```console"
            } else if inConsole, line.hasPrefix("$ ") {
                examples.append(Example(command: String(line.dropFirst(2)), output: ""))
            } else if inConsole, !examples.isEmpty {
                examples[examples.count - 1].output += (examples[examples.count - 1].output.isEmpty ? "" : "\n") + line
            }
        }
        return examples
    }

    @Test("every curl example of the REST gateway section answers what the doc says")
    func replay() async throws {
        let examples = try Self.examples()
        let routes = examples.map(\.command)
        // The seed README's three: record an event, read its history, list repeated failures.
        #expect(routes.contains { $0.contains("-X POST") && $0.contains("/api/sync-event") })
        #expect(routes.contains { $0.contains("/api/device/pibook-001/sync-history") })
        #expect(routes.contains { $0.contains("/api/devices/repeated-failures") })
        try await RESTTestServer.with { server in
            for example in examples {
                let curl = try CurlCommand(Self.words(example.command))
                let answer = try await server.request(
                    curl.method, curl.path, body: curl.data, contentType: curl.headers["Content-Type"])
                var printed = curl.discardBody ? "" : answer.text
                if let format = curl.writeOut {
                    printed += format.replacingOccurrences(of: "%{http_code}", with: "\(answer.status)")
                        .replacingOccurrences(of: "\\n", with: "\n")
                }
                #expect(
                    printed.trimmingCharacters(in: .newlines) == example.output, "\(example.command)")
            }
        }
    }

    /// Splits a shell command line into words: single and double quotes, no expansions.
    static func words(_ line: String) -> [String] {
        var words: [String] = []
        var word = ""
        var inWord = false
        var quote: Character?
        for character in line {
            if let open = quote {
                if character == open { quote = nil } else { word.append(character) }
            } else if character == "'" || character == "\"" {
                quote = character
                inWord = true
            } else if character == " " {
                if inWord { words.append(word) }
                word = ""
                inWord = false
            } else {
                word.append(character)
                inWord = true
            }
        }
        if inWord { words.append(word) }
        return words
    }
}

/// The parts of a curl command line the doc uses: `-s`, `-X`, `-H`, `-d`, `-o /dev/null`, `-w`.
struct CurlCommand {
    var method = "GET"
    var path = ""
    var headers: [String: String] = [:]
    var data: String?
    var discardBody = false
    var writeOut: String?

    struct Unsupported: Error, CustomStringConvertible {
        var description: String
    }

    init(_ words: [String]) throws {
        guard words.first == "curl" else { throw Unsupported(description: "not curl: \(words.joined(separator: " "))") }
        var arguments = words.dropFirst().makeIterator()
        var explicitMethod: String?
        while let argument = arguments.next() {
            switch argument {
            case "-s", "-sS":
                continue
            case "-X":
                explicitMethod = arguments.next()
            case "-H":
                let header = arguments.next() ?? ""
                let parts = header.split(separator: ":", maxSplits: 1)
                headers[String(parts[0])] = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
            case "-d":
                data = arguments.next()
            case "-o":
                discardBody = arguments.next() == "/dev/null"
            case "-w":
                writeOut = arguments.next()
            case _ where argument.hasPrefix("http://"):
                guard let url = URL(string: argument) else { throw Unsupported(description: "URL \(argument)") }
                path = url.path + (url.query.map { "?\($0)" } ?? "")
            default:
                throw Unsupported(description: "curl option \(argument)")
            }
        }
        method = explicitMethod ?? (data == nil ? "GET" : "POST")
    }
}
