import Foundation
import SwiftProtobuf

/// Rendering of results as aligned text tables or JSON.
enum Output {
    /// Prints `message` as protobuf JSON under proto field names; as in proto3 JSON, zero fields are omitted.
    static func printJSON(_ message: some SwiftProtobuf.Message) throws {
        var options = JSONEncodingOptions()
        options.alwaysPrintInt64sAsNumbers = true
        options.preserveProtoFieldNames = true
        print(try message.jsonString(options: options))
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

    /// A Unix-millisecond timestamp as ISO 8601 UTC, or "-" for 0.
    static func time(_ millis: Int64) -> String {
        guard millis != 0 else { return "-" }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
    }
}
