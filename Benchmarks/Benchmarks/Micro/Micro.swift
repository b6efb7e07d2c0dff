import Benchmark
import Foundation
import NIOCore
import PiSyncPersistence
import PiSyncProtocol
import PiSyncStore
import SwiftProtobuf

/// Where time goes on PiSync's hot paths, one benchmark per step a RecordSync or a read takes.
/// Each benchmark's iteration is one operation unless its name says otherwise.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .throughput], maxDuration: .seconds(2))

    Benchmark("frame decode (1,000 frames of a 1-event RecordSync)") { benchmark in
        let frames = Fixtures.frames(count: 1000)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            var buffer = frames
            var decoded = 0
            while let frame = try FrameCodec.readFrame(from: &buffer, maxFrameSize: 1 << 20) {
                decoded += frame.readableBytes
            }
            blackHole(decoded)
        }
    }

    Benchmark("Request decode (1-event RecordSync)") { benchmark in
        let body = Fixtures.recordSyncBody(events: 1)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try Pisync_V1_Request(serializedBytes: body))
        }
    }

    Benchmark("Request decode (100-event RecordSync, per-event device ids)") { benchmark in
        let body = Fixtures.recordSyncBody(events: 100, perEventDevices: true)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try Pisync_V1_Request(serializedBytes: body))
        }
    }

    Benchmark("Response encode (GetHistory page of 10 events)") { benchmark in
        let response = Fixtures.historyResponse(events: 10)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try response.serializedBytes() as [UInt8])
        }
    }

    // The stores below are built once, outside every measurement, and kept between samples:
    // a store built or freed inside a sample would be what it measures.
    Benchmark("store insert, 1,000 in order into a device with 1M events") { benchmark in
        let store = Fixtures.inOrderHistory
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            for _ in 0..<1000 {
                let next = Fixtures.inOrderNext.add(1, ordering: .relaxed).oldValue
                store.record([Fixtures.event("pi-long", at: next)], now: Fixtures.now)
            }
        }
    }

    Benchmark("store insert, 1,000 late into a device with 1M events") { benchmark in
        let store = Fixtures.lateHistory
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            for _ in 0..<1000 {
                // Between existing events (1,000 ms apart), spread over the whole history.
                let count = Fixtures.lateCount.add(1, ordering: .relaxed).oldValue
                let offset = (count * 7919 % 1_000_000) * 1000 + 1 + count / 1_000_000
                store.record([Fixtures.event("pi-long", at: offset)], now: Fixtures.now)
            }
        }
    }

    for (devices, store) in [(1_000, { Fixtures.fleet1k }), (100_000, { Fixtures.fleet100k })] {
        Benchmark("GetHistory page 1 (limit 10) among \(devices) devices") { benchmark in
            let store = store()
            let ids = (0..<1000).map { "pi-\($0 * 7919 % devices)" }
            var device = 0
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                blackHole(try store.history(of: ids[device % ids.count], page: PageRequest(page: 1, limit: 10)))
                device &+= 1
            }
        }
    }

    Benchmark("ListFailures page 1 (limit 10) among 100,000 devices") { benchmark in
        let store = Fixtures.fleet100k
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(store.failures(above: 3, page: try PageRequest(page: 1, limit: 10)))
        }
    }

    Benchmark("snapshot encode (1M events, 1,000 devices)", configuration: .init(maxDuration: .seconds(10))) { benchmark in
        let store = Fixtures.fleet1M
        let directory = Fixtures.temporaryDirectory()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try SnapshotFile(directory: directory).write(store, logSequence: 0, takenAt: 0))
        }
        benchmark.stopMeasurement()
        try? FileManager.default.removeItem(atPath: directory)
    }

    Benchmark("snapshot decode (1M events, 1,000 devices)", configuration: .init(maxDuration: .seconds(10))) { benchmark in
        let directory = Fixtures.temporaryDirectory()
        _ = try SnapshotFile(directory: directory).write(Fixtures.fleet1M, logSequence: 0, takenAt: 0)
        var loaded: [SyncStore] = []
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let store = SyncStore()
            blackHole(try SnapshotFile(directory: directory).load(into: store))
            loaded.append(store)
        }
        benchmark.stopMeasurement()
        loaded.removeAll()
        try? FileManager.default.removeItem(atPath: directory)
    }

    Benchmark("log append (1-event record, in memory)") { benchmark in
        // Never opened: appends are encoded, checksummed and buffered, as under a shard lock.
        let log = Fixtures.unopenedLog
        let events = [Fixtures.event("pi-log", at: 1)]
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            log.append(events, lastAlertSequence: 0)
        }
    }
}
