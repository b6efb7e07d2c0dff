/// A validated page of a listing: `page` is 1-based, `limit` at most ``maxLimit``.
public struct PageRequest: Sendable, Hashable {
    /// Default page size, as in the seed API.
    public static let defaultLimit = 10
    /// Largest page size; a larger one is refused, not clamped.
    public static let maxLimit = 100

    /// The 1-based page number.
    public let page: Int
    /// Items per page.
    public let limit: Int

    /// Resolves wire values, where 0 (absent) means the default.
    public init(page: UInt32, limit: UInt32) throws(FieldViolation) {
        guard Int(limit) <= Self.maxLimit else {
            throw FieldViolation(field: "limit", message: "limit must be between 1 and \(Self.maxLimit), got \(limit)")
        }
        self.page = page == 0 ? 1 : Int(page)
        self.limit = limit == 0 ? Self.defaultLimit : Int(limit)
    }

    /// Items to skip before this page (saturating).
    var offset: Int {
        let product = (page - 1).multipliedReportingOverflow(by: limit)
        return product.overflow ? Int.max : product.partialValue
    }
}
