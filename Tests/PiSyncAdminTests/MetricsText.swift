/// A Prometheus text exposition, read back: samples by series, and the metric names.
struct MetricsText {
    /// Sample values by series (`name` or `name{labels}`, as written).
    let samples: [String: Double]

    init(_ text: String) {
        var samples: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            samples[String(line[..<space])] = value
        }
        self.samples = samples
    }

    /// The value of `name{labels}` (or `name` with no labels).
    func value(_ name: String, _ labels: String = "") -> Double? {
        samples[labels.isEmpty ? name : "\(name){\(labels)}"]
    }

    /// Every metric family name: series names, with a histogram's `_bucket`, `_sum` and
    /// `_count` series also under the family's own name.
    var names: Set<String> {
        var names: Set<String> = []
        for series in samples.keys {
            let name = String(series.prefix { $0 != "{" })
            names.insert(name)
            for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
                names.insert(String(name.dropLast(suffix.count)))
            }
        }
        return names
    }
}
