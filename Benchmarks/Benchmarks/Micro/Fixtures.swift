import Foundation
import NIOCore
import PiSyncPersistence
import PiSyncProtocol
import PiSyncStore
import Synchronization

/// Inputs the micro-benchmarks share.
enum Fixtures {
    /// The server clock the stores are given: 2023-11-14T22:13:20Z.
    static let now: Int64 = 1_700_000_000_000
    /// Event timestamps start here, well inside the accepted window.
    static let base: Int64 = now - 300 * 86_400_000

    static let inOrderHistory = longHistory(events: 1_000_000)
    static let inOrderNext = Atomic<Int64>(1_000_000)
    static let lateHistory = longHistory(events: 1_000_000, spacing: 1000)
    static let lateCount = Atomic<Int64>(0)
    static let fleet1k = fleet(devices: 1_000, eventsEach: 20)
    static let fleet100k = fleet(devices: 100_000, eventsEach: 20)
    static let fleet1M = fleet(devices: 1_000, eventsEach: 1_000)
    /// Never opened: appends are encoded, checksummed and buffered, as under a shard lock.
    static let unopenedLog = WriteAheadLog(configuration: .init(directory: temporaryDirectory()))

    static func event(_ device: String, at offset: Int64, failed: Bool = false) -> SyncEvent {
        SyncEvent(
            deviceID: device, timestamp: base + offset, filesSynced: failed ? 0 : 3, errors: failed ? 2 : 0,
            internetSpeed: 7.5)
    }

    static func recordSyncBody(events: Int, perEventDevices: Bool = false) -> [UInt8] {
        let request = Pisync_V1_Request.with {
            $0.id = 1
            $0.recordSync = .with {
                if !perEventDevices { $0.deviceID = "pibook-0042" }
                $0.events = (0..<events).map { index in
                    .with {
                        if perEventDevices { $0.deviceID = "pibook-\(index)" }
                        $0.timestamp = base + Int64(index)
                        $0.totalFilesSynced = 3
                        $0.internetSpeed = 7.5
                    }
                }
            }
        }
        return (try? request.serializedBytes()) ?? []
    }

    static func frames(count: Int) -> ByteBuffer {
        var buffer = ByteBuffer()
        let body = recordSyncBody(events: 1)
        for _ in 0..<count { FrameCodec.writeFrame(body, into: &buffer) }
        return buffer
    }

    static func historyResponse(events: Int) -> Pisync_V1_Response {
        .with {
            $0.id = 7
            $0.getHistory = .with {
                $0.events = (0..<events).map { index in
                    .with {
                        $0.deviceID = "pibook-0042"
                        $0.timestamp = base + Int64(index)
                        $0.totalFilesSynced = 3
                        $0.internetSpeed = 7.5
                        $0.syncStatus = .success
                    }
                }
                $0.total = 1000
                $0.page = 1
                $0.limit = UInt32(events)
            }
        }
    }

    /// One device with `events` events, `spacing` ms apart, recorded in order.
    static func longHistory(events: Int, spacing: Int64 = 1) -> SyncStore {
        let store = SyncStore()
        var batch: [SyncEvent] = []
        for index in 0..<events {
            batch.append(event("pi-long", at: Int64(index) * spacing))
            if batch.count == 1000 {
                store.record(batch, now: now)
                batch = []
            }
        }
        store.record(batch, now: now)
        return store
    }

    /// `devices` devices with `eventsEach` events each; every device ends on 4 failures.
    static func fleet(devices: Int, eventsEach: Int) -> SyncStore {
        let store = SyncStore()
        for device in 0..<devices {
            let events = (0..<eventsEach).map { index in
                event("pi-\(device)", at: Int64(index), failed: index >= eventsEach - 4)
            }
            store.record(events, now: now)
        }
        return store
    }

    static func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "pisync-bench-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
