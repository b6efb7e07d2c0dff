import NIOCore
import PiSyncProtocol
import SwiftProtobuf

/// Checks what the server wrote on one connection against what the peer sent.
struct ResponseCheck {
    /// Everything the server wrote, in order.
    let output: ByteBuffer
    /// Everything the peer sent.
    let input: [UInt8]
    let maxFrameSize: Int
    /// The connection was still open at the end, with nothing held back: every request read
    /// must have an answer.
    let expectAllAnswered: Bool

    func verify() {
        var output = self.output
        var answered: Set<UInt64> = []
        let sent = requestIDs()
        while output.readableBytes > 0 {
            let frame: ByteBuffer?
            do {
                frame = try FrameCodec.readFrame(from: &output, maxFrameSize: .max)
            } catch {
                preconditionFailure("the server wrote a bad length prefix: \(error)")
            }
            guard let frame else {
                preconditionFailure("the server's output ends inside a frame (\(output.readableBytes) bytes)")
            }
            let response: Pisync_V1_Response
            do {
                response = try Pisync_V1_Response(serializedBytes: Array(frame.readableBytesView))
            } catch {
                preconditionFailure("the server wrote a frame that is not a pisync.v1.Response: \(error)")
            }
            precondition(response.result != nil, "the server wrote a Response with no result: \(response)")
            precondition(
                response.id == 0 || sent.contains(response.id),
                "the server answered id \(response.id), which no request carried")
            answered.insert(response.id)
        }
        if expectAllAnswered {
            let unanswered = sent.subtracting(answered).subtracting([0])
            precondition(unanswered.isEmpty, "requests \(unanswered.sorted()) got no answer on an open connection")
        }
    }

    /// The ids of the requests in the whole frames the peer sent, up to the first frame the
    /// server refuses to read (after it, the connection is closed).
    private func requestIDs() -> Set<UInt64> {
        var stream = ByteBuffer(bytes: input)
        var ids: Set<UInt64> = []
        while let frame = try? FrameCodec.readFrame(from: &stream, maxFrameSize: maxFrameSize) {
            if let request = try? Pisync_V1_Request(serializedBytes: Array(frame.readableBytesView)) {
                ids.insert(request.id)
            }
        }
        return ids
    }
}
