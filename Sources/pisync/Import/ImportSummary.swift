/// What an import did, as the summary prints it (and `--json` encodes it, with snake_case keys).
struct ImportSummary: Encodable, Sendable {
    /// The file imported.
    var file: String
    /// `json_lines` or `json_array`; empty for an empty file.
    var format = ""
    /// Documents read, each of which was imported, a duplicate, or rejected.
    var documents = 0
    /// Events newly stored.
    var imported = 0
    /// Rows the server already had, or that appeared earlier in the file.
    var duplicates = 0
    var rejected = 0
    /// Where the rejected rows are, or `""` when none were.
    var rejectsFile = ""
    var seconds = 0.0
    /// Said about the file as a whole, e.g. an array that is never closed.
    var warnings: [String] = []

    init(file: String) {
        self.file = file
    }

    /// `imported 8, duplicates 3, rejected 4`.
    var counts: String {
        "imported \(imported), duplicates \(duplicates), rejected \(rejected)"
    }
}
