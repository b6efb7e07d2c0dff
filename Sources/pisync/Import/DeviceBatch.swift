/// Rows of one device, sent as one RecordSync with the device named at request level.
struct DeviceBatch: Sendable {
    let deviceID: String
    var rows: [ImportRow]

    /// The batch cut in two halves (for a server that refuses it as a whole).
    var halves: (DeviceBatch, DeviceBatch) {
        let middle = rows.count / 2
        return (DeviceBatch(deviceID: deviceID, rows: Array(rows[..<middle])),
                DeviceBatch(deviceID: deviceID, rows: Array(rows[middle...])))
    }
}
