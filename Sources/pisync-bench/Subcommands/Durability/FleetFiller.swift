import Foundation
import PiSyncStore

/// Records a synthetic fleet's events straight into a store: `devices` devices, each with
/// events a minute apart ending a day ago, 5% of them failed.
struct FleetFiller {
    let devices: Int
    let base = Int64(Date().timeIntervalSince1970 * 1000) - 86_400_000 * 30

    /// Records events `range` (event i goes to device i % devices) in batches of one device.
    func record(_ range: Range<Int>, into store: SyncStore, now: Int64) {
        var index = range.lowerBound
        while index < range.upperBound {
            let device = index % devices
            let round = index / devices
            let count = min(range.upperBound - index, devices - device)
            var batch: [SyncEvent] = []
            batch.reserveCapacity(count)
            for offset in 0..<count {
                let failed = (round + device + offset) % 20 == 0
                batch.append(
                    SyncEvent(
                        deviceID: "fleet-\(device + offset)", timestamp: base + Int64(round) * 60_000,
                        filesSynced: failed ? 0 : 12, errors: failed ? 3 : 0, internetSpeed: 8.5))
            }
            store.record(batch, now: now)
            index += count
        }
    }

    /// This process's resident set size in bytes (Linux).
    static func residentBytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kilobytes * 1024
    }
}
