import PiSyncAuth
import PiSyncServer

/// The server configurations inputs run against.
enum FuzzServer {
    /// The auth secret; seeds carry tokens minted under it, so the fuzzer starts past
    /// Authenticate and mutates what follows.
    static let secrets = AuthSecrets([(keyID: "fz1", secret: Array("pisync-fuzz-secret-0123456789abcdef".utf8))])

    /// A fixed "now", a little after the golden vectors' timestamps, so that events the seeds
    /// carry are valid and an input replays the same whatever the date.
    static let clock = ServerClock(now: { 1_700_000_200_000 })

    static func configuration(_ options: FuzzInput.Options) -> ServerConfiguration {
        var configuration = ServerConfiguration()
        if options.contains(.auth) {
            configuration.authSecrets = secrets
        }
        if options.contains(.tightLimits) {
            configuration.maxFrameSize = 256
            configuration.maxBatchSize = 3
            configuration.maxSubscriptionsPerConnection = 2
            configuration.maxSubscriptions = 3
            configuration.subscriberBufferSize = 2
            configuration.alertThreshold = 1
            configuration.deviceRate = 1
            configuration.deviceBurst = 3
            configuration.maxAuthFailuresPerMinute = 1
            configuration.maxPipelinedRequests = 2
        }
        return configuration
    }
}
