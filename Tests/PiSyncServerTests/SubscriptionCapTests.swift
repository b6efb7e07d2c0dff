import PiSyncProtocol
import Testing

/// Subscriptions are capped per connection and across the server.
@Suite("Subscription caps", .timeLimit(.minutes(1)))
struct SubscriptionCapTests {
    static func subscribe(_ id: UInt64) -> Pisync_V1_Request {
        .with { $0.id = id; $0.subscribeFailureAlerts = .init() }
    }

    // Regression (issue 7): one connection could open subscriptions without end, each one
    // buffer and one more copy of every alert.
    @Test("beyond either cap a subscribe gets RESOURCE_EXHAUSTED; a cancelled one frees its place")
    func caps() async throws {
        try await TestServer.with({
            $0.maxSubscriptionsPerConnection = 2
            $0.maxSubscriptions = 3
        }) { server in
            let first = try await RawConnection.connect(port: server.port)
            var firstResponses = first.responses.makeAsyncIterator()
            for id: UInt64 in [1, 2, 3] {
                try await first.send(Self.subscribe(id))
            }
            let confirmations = [try await firstResponses.next(), try await firstResponses.next()]
            #expect(confirmations.map { $0?.id } == [1, 2])
            #expect(confirmations.allSatisfy { $0?.subscribeFailureAlerts != nil })
            let overConnection = try #require(try await firstResponses.next())
            #expect(overConnection.id == 3)
            #expect(overConnection.error.code == StatusCode.resourceExhausted.rawValue)
            #expect(overConnection.error.message.contains("limit of 2 subscriptions"))

            let second = try await RawConnection.connect(port: server.port)
            var secondResponses = second.responses.makeAsyncIterator()
            try await second.send(Self.subscribe(10))
            #expect(try await secondResponses.next()?.subscribeFailureAlerts.bufferSize ?? 0 > 0)
            try await second.send(Self.subscribe(11))
            let overTotal = try #require(try await secondResponses.next())
            #expect(overTotal.id == 11)
            #expect(overTotal.error.code == StatusCode.resourceExhausted.rawValue)
            #expect(overTotal.error.message.contains("limit of 3 subscriptions"))

            // Cancelling one on the first connection, or closing it, gives places back.
            try await first.send(.with { $0.id = 4; $0.cancel = .with { $0.subscriptionID = 1 } })
            var sawCancel = false
            while let response = try await firstResponses.next() {
                if response.id == 4 { sawCancel = response.cancel.subscriptionID == 1; break }
            }
            #expect(sawCancel)
            try await second.send(Self.subscribe(12))
            #expect(try await secondResponses.next()?.subscribeFailureAlerts.bufferSize ?? 0 > 0)
            await first.close()
            #expect(await eventually { server.bus.subscriberCount == 2 })
            let third = try await RawConnection.connect(port: server.port)
            var thirdResponses = third.responses.makeAsyncIterator()
            for id: UInt64 in 20...21 {
                try await third.send(Self.subscribe(id))
            }
            let afterClose = [try await thirdResponses.next(), try await thirdResponses.next()]
            #expect(afterClose[0]?.subscribeFailureAlerts.bufferSize ?? 0 > 0)
            #expect(afterClose[1]?.error.code == StatusCode.resourceExhausted.rawValue)
            await second.close()
            await third.close()
        }
    }
}
