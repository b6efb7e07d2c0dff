import Foundation

/// A row that was not imported, as one line of the rejects file:
/// `{"document":"{...}","field":"timestamp","line":7,"message":"..."}` (with `index` too in
/// a JSON array export).
struct ImportRejection: Sendable {
    /// The longest document text written back, in characters; longer ones are cut with "...".
    static let maxDocumentText = 4096

    let position: ExportPosition
    /// The offending field (`"timestamp"`), or `""` when the document as a whole is wrong.
    let field: String
    let message: String
    let document: [UInt8]

    /// `line 7 [timestamp]: ...`, as the summary prints it.
    var summaryLine: String {
        field.isEmpty ? "\(position): \(message)" : "\(position) [\(field)]: \(message)"
    }

    /// The JSON line, with a newline.
    func jsonLine() throws -> Data {
        var text = String(decoding: document, as: UTF8.self)
        if text.count > Self.maxDocumentText { text = String(text.prefix(Self.maxDocumentText)) + "..." }
        let line: Int
        let index: Int?
        switch position {
        case .line(let number): (line, index) = (number, nil)
        case .element(let element, let number): (line, index) = (number, element)
        }
        var data = try Output.json(JSONLine(line: line, index: index, field: field, message: message, document: text))
        data.append(0x0A)
        return data
    }

    private struct JSONLine: Encodable {
        let line: Int
        let index: Int?
        let field: String
        let message: String
        let document: String
    }
}
