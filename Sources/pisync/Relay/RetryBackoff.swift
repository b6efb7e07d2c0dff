/// Exponential backoff with full jitter: before retry `n` (1 for the first) wait a random time
/// between 0 and `min(maximum, initial × 2^(n-1))`, so that many relays failing at once do not
/// retry in step.
struct RetryBackoff: Sendable, Equatable {
    /// The cap of the first wait.
    let initial: Duration
    /// The largest wait.
    let maximum: Duration

    /// The cap of the wait before retry `attempt` (1-based): `initial` doubled per attempt,
    /// never above `maximum`.
    func ceiling(attempt: Int) -> Duration {
        let seconds = initial.inSeconds * Double(sign: .plus, exponent: min(max(attempt - 1, 0), 64), significand: 1)
        return seconds >= maximum.inSeconds ? maximum : .seconds(seconds)
    }

    /// A random wait before retry `attempt`, uniform in `0...ceiling(attempt:)`.
    func delay(attempt: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        let ceiling = ceiling(attempt: attempt).inSeconds
        return .seconds(ceiling > 0 ? Double.random(in: 0...ceiling, using: &generator) : 0)
    }

    /// A random wait before retry `attempt`, from the system's generator.
    func delay(attempt: Int) -> Duration {
        var generator = SystemRandomNumberGenerator()
        return delay(attempt: attempt, using: &generator)
    }
}
