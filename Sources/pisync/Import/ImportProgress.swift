import Foundation

/// The progress bar `pisync import` draws on standard error, redrawn in place at most ten
/// times a second: `[########------------]  41%  10.2/25.0 MB  81234 documents  ETA 0:12`.
/// The ETA assumes the rest of the file goes as fast as what was read so far.
final class ImportProgress {
    static let width = 24

    private let totalBytes: Int64?
    private let start = ContinuousClock.now
    private var lastDrawn: ContinuousClock.Instant?
    private let write: (String) -> Void

    init(totalBytes: Int64?, write: @escaping (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.totalBytes = totalBytes
        self.write = write
    }

    /// Redraws the bar, unless it was drawn less than 0.1 s ago and this is not the `last`.
    func update(bytes: Int64, documents: Int, last: Bool = false) {
        let now = ContinuousClock.now
        if !last, let lastDrawn, now - lastDrawn < .milliseconds(100) { return }
        lastDrawn = now
        write("\r" + Self.line(bytes: bytes, total: totalBytes, documents: documents, elapsed: now - start) + "\u{1B}[K")
    }

    /// Clears the bar's line, before the summary is printed.
    func finish() {
        guard lastDrawn != nil else { return }
        write("\r\u{1B}[K")
    }

    /// The bar's text for `bytes` of `total` read in `elapsed`.
    static func line(bytes: Int64, total: Int64?, documents: Int, elapsed: Duration) -> String {
        let count = "\(documents) document\(documents == 1 ? "" : "s")"
        guard let total, total > 0 else {
            return "\(megabytes(bytes)) MB  \(count)  \(clock(elapsed.inSeconds.rounded(.down)))"
        }
        let fraction = min(1, Double(bytes) / Double(total))
        let filled = Int(fraction * Double(width))
        let bar = "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "]"
        let seconds = elapsed.inSeconds
        let eta = bytes > 0 && seconds >= 0.5 ? clock(seconds * Double(total - bytes) / Double(bytes)) : "--:--"
        let percent = String(format: "%3ld%%", Int(fraction * 100))
        return "\(bar) \(percent)  \(megabytes(bytes))/\(megabytes(total)) MB  \(count)  ETA \(eta)"
    }

    private static func megabytes(_ bytes: Int64) -> String {
        String(format: "%.1f", Double(bytes) / 1_000_000)
    }

    /// `m:ss`, or `h:mm:ss` from an hour.
    static func clock(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded(.up))
        let (hours, minutes, rest) = (whole / 3600, whole / 60 % 60, whole % 60)
        return hours > 0 ? String(format: "%ld:%02ld:%02ld", hours, minutes, rest) : String(format: "%ld:%02ld", minutes, rest)
    }
}
