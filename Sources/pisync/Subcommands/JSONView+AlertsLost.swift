extension JSONView {
    /// `watch --json`'s notice, before the replay, that alerts after `from_sequence` are no
    /// longer held by the server: `alerts_lost` of them will never arrive.
    struct AlertsLost: Encodable {
        let alertsLost: UInt64
        let fromSequence: UInt64
        let lastSequence: UInt64
    }
}
