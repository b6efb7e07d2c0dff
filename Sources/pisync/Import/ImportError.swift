/// Why `pisync import` cannot go on: the file cannot be read, or the server refused the
/// import as a whole.
struct ImportError: Error, Equatable, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
