import Foundation
import PiSyncProtocol
@testable import pisync
import Testing

/// `--json` promises every field of the contract; the views are written by hand, so this
/// holds them to the field names in proto/.
@Suite("CLI JSON views")
struct JSONViewTests {
    /// The field names of `message` in proto/pisync/v1/pisync.proto.
    static func protoFields(of message: String) throws -> Set<String> {
        let proto = try String(contentsOf: CDeviceTool.repository.appendingPathComponent("proto/pisync/v1/pisync.proto"), encoding: .utf8)
        let body = try #require(proto.components(separatedBy: "message \(message) {").dropFirst().first?
            .components(separatedBy: "\n}").first)
        let fields = body.split(separator: "\n").compactMap { line -> String? in
            let words = line.split(separator: " ")
            guard let equals = words.firstIndex(of: "="), equals >= 2, !line.trimmingCharacters(in: .whitespaces).hasPrefix("//")
            else { return nil }
            return String(words[equals - 1])
        }
        return Set(fields)
    }

    /// The keys `view` encodes to, as `--json` prints it.
    static func keys(_ view: some Encodable) throws -> Set<String> {
        let object = try JSONSerialization.jsonObject(with: try Output.json(view)) as? [String: Any]
        return Set(object?.keys ?? [:].keys)
    }

    @Test("each view has exactly its message's fields")
    func viewsMatchContract() throws {
        #expect(try Self.protoFields(of: "SyncEvent").count == 6)  // the reader of the .proto works
        let event = Pisync_V1_SyncEvent()
        #expect(try Self.keys(event.jsonView) == Self.protoFields(of: "SyncEvent"))
        #expect(try Self.keys(Pisync_V1_RecordSyncResponse().jsonView) == Self.protoFields(of: "RecordSyncResponse"))
        let rejected = Pisync_V1_RecordSyncResponse.with { $0.rejected = [.init()] }.jsonView.rejected[0]
        #expect(try Self.keys(rejected) == Self.protoFields(of: "RejectedEvent"))
        #expect(try Self.keys(Pisync_V1_GetHistoryResponse().jsonView) == Self.protoFields(of: "GetHistoryResponse"))
        let failures = Pisync_V1_ListFailuresResponse.with { $0.devices = [.init()] }.jsonView
        #expect(try Self.keys(failures) == Self.protoFields(of: "ListFailuresResponse"))
        #expect(try Self.keys(failures.devices[0]) == Self.protoFields(of: "DeviceFailures"))
        #expect(try Self.keys(Pisync_V1_FailureAlert().jsonView) == Self.protoFields(of: "FailureAlert"))
        #expect(try Self.keys(Pisync_V1_DeviceRecovered().jsonView) == Self.protoFields(of: "DeviceRecovered"))
        #expect(try Self.keys(Pisync_V1_PingResponse().jsonView) == Self.protoFields(of: "PingResponse"))
        let healthy = Pisync_V1_PingResponse.with { $0.health = .with { $0.ready = true } }
        #expect(try Self.keys(try #require(healthy.jsonView.health)) == Self.protoFields(of: "Health"))
    }
}
