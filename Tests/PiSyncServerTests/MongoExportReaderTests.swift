import Foundation
@testable import pisync
import Testing

/// The export is read a chunk at a time, in either layout, with each row's position.
@Suite("pisync import: reading mongoexport files")
struct MongoExportReaderTests {
    /// Every row of `text`, read `chunkSize` bytes at a time, and the reader at the end.
    static func rows(_ text: String, chunkSize: Int = 7, maxDocumentBytes: Int = 1 << 20) throws -> ([ExportRow], MongoExportReader) {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("export.json").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let reader = try MongoExportReader(path: path, chunkSize: chunkSize, maxDocumentBytes: maxDocumentBytes)
        var rows: [ExportRow] = []
        while let row = try reader.next() { rows.append(row) }
        #expect(reader.bytesConsumed <= Int64(text.utf8.count))
        return (rows, reader)
    }

    static func text(_ row: ExportRow) -> String {
        String(decoding: row.document, as: UTF8.self)
    }

    @Test("JSON lines: one document a line, blank lines and CRLF skipped, positions are line numbers", arguments: [1, 7, 4096])
    func jsonLines(chunkSize: Int) throws {
        let (rows, reader) = try Self.rows("{\"a\":1}\n\n  {\"b\":\"x\\ny\"}\r\n{\"c\":[1,2]}", chunkSize: chunkSize)
        #expect(reader.format == .jsonLines)
        #expect(rows.map(\.position) == [.line(1), .line(3), .line(4)])
        #expect(rows.map(Self.text) == [#"{"a":1}"#, #"{"b":"x\ny"}"#, #"{"c":[1,2]}"#])
        #expect(rows.allSatisfy { $0.problem == nil })
    }

    @Test("a JSON array, on one line or pretty-printed, with commas and brackets inside strings", arguments: [1, 7, 4096])
    func jsonArray(chunkSize: Int) throws {
        let (rows, reader) = try Self.rows("\u{FEFF}\n[{\"a\":\"],{\\\"\"},\n  {\"b\": [1, {\"c\": 2}]}\n,\n{\"d\":3}\n]\n", chunkSize: chunkSize)
        #expect(reader.format == .jsonArray)
        #expect(rows.map(\.position) == [.element(index: 0, line: 2), .element(index: 1, line: 3), .element(index: 2, line: 5)])
        #expect(rows.map(Self.text) == [#"{"a":"],{\""}"#, #"{"b": [1, {"c": 2}]}"#, #"{"d":3}"#])
        #expect(reader.warnings.isEmpty)
    }

    @Test("an empty file and an empty array hold no documents")
    func empty() throws {
        #expect(try Self.rows("").0.isEmpty)
        #expect(try Self.rows(" \n ").0.isEmpty)
        let (rows, reader) = try Self.rows("[ ]")
        #expect(rows.isEmpty && reader.format == .jsonArray && reader.warnings.isEmpty)
    }

    @Test("a cut-off array: the last document is rejected and the file is warned about")
    func truncatedArray() throws {
        let (rows, reader) = try Self.rows("[{\"a\":1},\n{\"b\":")
        #expect(rows.count == 2 && rows[0].problem == nil)
        #expect(rows[1].position == .element(index: 1, line: 2))
        #expect(rows[1].problem?.message == "the file ends inside this document: the export looks cut off")
        #expect(reader.warnings == ["the file ends before the array's closing ']': the export looks cut off"])
    }

    @Test("empty elements and text after the array are rejected rows")
    func malformedArray() throws {
        let (rows, _) = try Self.rows("[{\"a\":1},,{\"b\":2},]\nextra")
        #expect(rows.map(\.position) == [
            .element(index: 0, line: 1), .element(index: 1, line: 1), .element(index: 2, line: 1),
            .element(index: 3, line: 1), .element(index: 4, line: 2),
        ])
        #expect(rows.map { $0.problem?.message } == [
            nil, "empty element: no document before this ','", nil, "empty element: no document before this ']'",
            "unexpected text after the array's closing ']'",
        ])
    }

    @Test("a document over the size limit is rejected without being held, in both layouts")
    func oversized() throws {
        let big = "{\"a\":\"" + String(repeating: "x", count: 100) + "\"}"
        let (lines, _) = try Self.rows("{\"a\":1}\n\(big)\n{\"b\":2}\n", chunkSize: 16, maxDocumentBytes: 64)
        #expect(lines.map(\.position) == [.line(1), .line(2), .line(3)])
        #expect(lines[1].problem?.message == "the document is larger than 64 bytes" && lines[1].document.isEmpty)
        #expect(lines[2].problem == nil && Self.text(lines[2]) == #"{"b":2}"#)
        let (elements, _) = try Self.rows("[{\"a\":1},\(big),{\"b\":2}]", chunkSize: 16, maxDocumentBytes: 64)
        #expect(elements.map { $0.problem?.message } == [nil, "the document is larger than 64 bytes", nil])
        #expect(Self.text(elements[2]) == #"{"b":2}"#)
    }

    @Test("a missing file or a directory is refused with the reason")
    func unreadable() throws {
        #expect(throws: ImportError("cannot open /nonexistent/export.json: No such file or directory")) {
            try MongoExportReader(path: "/nonexistent/export.json")
        }
        #expect(throws: ImportError("cannot read /tmp: it is a directory")) { try MongoExportReader(path: "/tmp") }
    }

    @Test("a large export is streamed: the buffer holds a chunk and a document, never the file", arguments: [false, true])
    func streaming(asArray: Bool) throws {
        let document = #"{"_id":{"$oid":"6568a1f2c9e77c0012345678"},"device_id":"pibook-001","timestamp":{"$date":"2026-11-28T08:00:00.000Z"},"total_files_synced":12,"total_errors":0,"internet_speed":8.5}"#
        let rows = Array(repeating: document, count: 20_000)
        let text = asArray ? "[" + rows.joined(separator: ",\n") + "]" : rows.joined(separator: "\n")
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("large.json").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let reader = try MongoExportReader(path: path, chunkSize: 4096)
        var count = 0
        var largestBuffer = 0
        while let row = try reader.next() {
            #expect(row.document.count == document.utf8.count)
            count += 1
            largestBuffer = max(largestBuffer, reader.buffer.count)
        }
        #expect(count == 20_000 && reader.bytesConsumed == Int64(text.utf8.count))
        #expect(largestBuffer <= 2 * 4096 + document.utf8.count, "\(largestBuffer) bytes held for a \(text.utf8.count)-byte file")
    }
}
