extension Pisync_V1_Response {
    /// A response that carries an error for request `id`.
    /// `retryAfterMillis` tells a rate-limited client how long to wait before it retries.
    public static func failure(
        id: UInt64, _ code: StatusCode, _ message: String, field: String = "", retryAfterMillis: UInt32 = 0
    ) -> Self {
        .with {
            $0.id = id
            $0.error = .with {
                $0.code = code.rawValue
                $0.message = message
                $0.field = field
                $0.retryAfterMs = retryAfterMillis
            }
        }
    }
}
