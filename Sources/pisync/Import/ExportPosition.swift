/// Where a document is in an export: its line in JSON lines, its index (0-based) and first
/// line in a JSON array.
enum ExportPosition: Equatable, Sendable, CustomStringConvertible {
    case line(Int)
    case element(index: Int, line: Int)

    var description: String {
        switch self {
        case .line(let line): "line \(line)"
        case .element(let index, let line): "element \(index) (line \(line))"
        }
    }
}
