import PiSyncStore

/// The `--jsonArray` layout: `[doc, doc, ...]`, pretty-printed or on one line. Elements are
/// found by tracking strings and nesting, so a document may span lines and chunks.
extension MongoExportReader {
    /// Where the array scan is; buffer indices move when the buffer is compacted.
    struct ArrayState {
        enum Phase { case beforeOpen, inArray, closed, finished }
        var phase = Phase.beforeOpen
        /// The next buffer index to scan.
        var scan = -1
        var depth = 0
        var inString = false
        var escaped = false
        /// Buffer index of the current element's first byte that is not whitespace.
        var elementStart: Int?
        var elementLine = 0
        var oversized = false
        /// Elements finished so far, refused ones included: the next element's index.
        var index = 0
        var sawComma = false

        mutating func shift(by count: Int) {
            if scan >= 0 { scan -= count }
            elementStart = elementStart.map { $0 - count }
        }
    }

    func nextElement() throws(ImportError) -> ExportRow? {
        if array.scan < 0 { array.scan = cursor }
        while true {
            while array.scan < buffer.count {
                let byte = buffer[array.scan]
                switch array.phase {
                case .beforeOpen:
                    if byte == UInt8(ascii: "[") { array.phase = .inArray }
                case .inArray:
                    if !array.inString, array.depth == 0, byte == UInt8(ascii: ",") || byte == UInt8(ascii: "]") {
                        let row = finishElement(closing: byte == UInt8(ascii: "]"))
                        array.scan += 1
                        cursor = array.scan
                        if let row { return row }
                        continue
                    }
                    scanElementByte(byte)
                case .closed:
                    if !Self.isWhitespace(byte) {
                        array.phase = .finished
                        cursor = buffer.count
                        return ExportRow(
                            .element(index: array.index, line: lineNumber + 1), [],
                            problem: FieldViolation(field: "", message: "unexpected text after the array's closing ']'"))
                    }
                case .finished:
                    return nil
                }
                if byte == 0x0A { lineNumber += 1 }
                array.scan += 1
            }
            cursor = array.scan
            if endOfFile { return finishAtEndOfFile() }
            if let start = array.elementStart, array.scan - start > maxDocumentBytes {
                array.oversized = true
                array.elementStart = array.scan
            }
            try fill(keepFrom: array.elementStart)
        }
    }

    private func scanElementByte(_ byte: UInt8) {
        if array.inString {
            if array.escaped {
                array.escaped = false
            } else if byte == UInt8(ascii: "\\") {
                array.escaped = true
            } else if byte == UInt8(ascii: "\"") {
                array.inString = false
            }
            return
        }
        if array.elementStart == nil, !Self.isWhitespace(byte) {
            array.elementStart = array.scan
            array.elementLine = lineNumber + 1
        }
        switch byte {
        case UInt8(ascii: "\""): array.inString = true
        case UInt8(ascii: "{"), UInt8(ascii: "["): array.depth += 1
        case UInt8(ascii: "}"), UInt8(ascii: "]"): array.depth = max(0, array.depth - 1)
        default: break
        }
    }

    /// The row for the element that ends at `array.scan` (a `,` or the closing `]`).
    private func finishElement(closing: Bool) -> ExportRow? {
        defer {
            array.elementStart = nil
            array.oversized = false
            if closing { array.phase = .closed } else { array.sawComma = true }
        }
        let position = ExportPosition.element(index: array.index, line: array.elementStart == nil ? lineNumber + 1 : array.elementLine)
        guard let start = array.elementStart else {
            if closing, array.index == 0, !array.sawComma { return nil }  // `[]`
            array.index += 1
            return ExportRow(
                position, [],
                problem: FieldViolation(field: "", message: "empty element: no document before this '\(closing ? "]" : ",")'"))
        }
        array.index += 1
        if array.oversized || array.scan - start > maxDocumentBytes { return ExportRow(position, [], problem: tooLarge) }
        return ExportRow(position, Array(Self.trimmed(buffer[start..<array.scan])))
    }

    private func finishAtEndOfFile() -> ExportRow? {
        defer { array.phase = .finished }
        guard array.phase == .inArray || array.phase == .beforeOpen else { return nil }
        warn("the file ends before the array's closing ']': the export looks cut off")
        guard let start = array.elementStart, array.phase == .inArray else { return nil }
        let position = ExportPosition.element(index: array.index, line: array.elementLine)
        array.index += 1
        return ExportRow(
            position, Array(Self.trimmed(buffer[start...])),
            problem: FieldViolation(field: "", message: "the file ends inside this document: the export looks cut off"))
    }
}
