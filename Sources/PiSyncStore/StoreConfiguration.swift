/// Settings of a ``SyncStore``.
public struct StoreConfiguration: Sendable {
    /// Consecutive failed syncs of one device that raise a ``FailureAlert``.
    public var alertThreshold: Int
    /// The field rules for incoming events.
    public var validator: EventValidator
    /// Independent locks the devices are spread over.
    public var shardCount: Int
    /// Alerts and recovery notices kept, and persisted, for subscribers that resume.
    public var alertHistory: Int

    /// The default ``alertHistory``.
    public static let defaultAlertHistory = 10_000

    /// Creates a configuration; by default an alert fires on the 3rd failure in a row and the
    /// last 10,000 alerts are kept.
    public init(
        alertThreshold: Int = 3, validator: EventValidator = EventValidator(), shardCount: Int = 64,
        alertHistory: Int = StoreConfiguration.defaultAlertHistory
    ) {
        self.alertThreshold = max(1, alertThreshold)
        self.validator = validator
        self.shardCount = max(1, shardCount)
        self.alertHistory = max(0, alertHistory)
    }
}
