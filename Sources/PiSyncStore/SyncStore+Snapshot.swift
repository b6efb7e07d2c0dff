import SwiftProtobuf

extension SyncStore {
    /// Serializes every device's history, the streak state and the alert sequence into a
    /// snapshot body (see ``SnapshotFile`` for the file around it).
    ///
    /// Shards are copied one at a time under their locks (copy-on-write keeps this cheap), so
    /// recording goes on meanwhile; each device is captured consistently.
    public func snapshotBody(takenAt: Int64) throws -> [UInt8] {
        var snapshot = Pisync_Storage_V1_Snapshot()
        snapshot.takenAt = takenAt
        for shard in shardsForSnapshot {
            let devices = shard.state.withLock { $0.devices }
            for (deviceID, history) in devices {
                snapshot.devices.append(.with {
                    $0.deviceID = deviceID
                    $0.streakAlerted = history.streakAlerted
                    $0.events = history.events.map { event in
                        .with {
                            $0.timestamp = event.timestamp
                            $0.totalFilesSynced = event.filesSynced
                            $0.totalErrors = event.errors
                            $0.internetSpeed = event.internetSpeed
                        }
                    }
                })
            }
        }
        // Read after the shards: every alert reflected in them is numbered at or below it.
        snapshot.lastAlertSequence = currentAlertSequence
        return try snapshot.serializedBytes()
    }

    /// Creates a store holding the state of a snapshot body.
    /// - Throws: ``SnapshotError/corrupt(_:)`` when the body does not decode.
    public convenience init(
        restoringFrom body: [UInt8],
        configuration: StoreConfiguration = StoreConfiguration(),
        onAlert: @escaping @Sendable (FailureAlert) -> Void = { _ in }
    ) throws {
        let snapshot: Pisync_Storage_V1_Snapshot
        do {
            snapshot = try Pisync_Storage_V1_Snapshot(serializedBytes: body)
        } catch {
            throw SnapshotError.corrupt("snapshot body does not decode: \(error)")
        }
        self.init(configuration: configuration, lastAlertSequence: snapshot.lastAlertSequence, onAlert: onAlert)
        for device in snapshot.devices {
            var history = DeviceHistory()
            for event in device.events {
                _ = history.insert(
                    StoredSync(
                        timestamp: event.timestamp, filesSynced: event.totalFilesSynced,
                        errors: event.totalErrors, internetSpeed: event.internetSpeed))
            }
            history.streakAlerted = device.streakAlerted
            restore(history, of: device.deviceID)
        }
    }
}
