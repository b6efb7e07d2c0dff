/// Prints results as a Markdown table, ready to paste into docs/performance.md.
enum MarkdownTable {
    static func print(_ header: [String], _ rows: [[String]]) {
        Swift.print("| " + header.joined(separator: " | ") + " |")
        Swift.print("|" + header.map { _ in "---" }.joined(separator: "|") + "|")
        for row in rows {
            Swift.print("| " + row.joined(separator: " | ") + " |")
        }
    }
}
