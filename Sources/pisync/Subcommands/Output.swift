import Foundation

/// Rendering of results as aligned text tables or JSON.
enum Output {
    /// Prints `result` as one line of JSON with every field (see `JSONPrintable`).
    static func printJSON(_ result: some JSONPrintable) throws {
        print(String(decoding: try json(result.jsonView), as: UTF8.self))
    }

    /// `view` as `--json` prints it: snake_case keys, sorted for stable output.
    static func json(_ view: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(view)
    }

    /// Prints rows under a header, columns padded to their widest cell.
    static func printTable(_ header: [String], _ rows: [[String]]) {
        let widths = header.indices.map { column in
            ([header] + rows).map { $0[column].count }.max() ?? 0
        }
        for row in [header] + rows {
            let cells = row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }
            print(cells.joined(separator: "  "))
        }
    }

    /// A Unix-millisecond timestamp as ISO 8601 UTC with exact milliseconds, or "-" for 0.
    ///
    /// The whole seconds are formatted (one value-type style serves every row) and the
    /// milliseconds appended from the integer: through a `Double` they could come out one less.
    static func time(_ millis: Int64) -> String {
        guard millis != 0 else { return "-" }
        var (seconds, milliseconds) = millis.quotientAndRemainder(dividingBy: 1000)
        if milliseconds < 0 { seconds -= 1; milliseconds += 1000 }
        let whole = Date(timeIntervalSince1970: Double(seconds)).formatted(.iso8601)  // ends in "Z"
        let fraction = String(milliseconds + 1000).dropFirst()  // "007" for 7
        return "\(whole.dropLast()).\(fraction)Z"
    }
}
