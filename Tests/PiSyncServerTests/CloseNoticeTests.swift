import Foundation
import NIOCore
import PiSyncProtocol
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A connection the server closes with a last notice keeps the notice even when the client has
/// sent bytes the server never read: closing a socket with unread input makes the kernel reset
/// the connection, and a reset discards the notice if the client has not read it yet.
@Suite("Close notices survive unread input", .timeLimit(.minutes(1)))
struct CloseNoticeTests {
    @Test("an over-limit frame followed by more bytes: a client that reads late still gets the RESOURCE_EXHAUSTED notice", arguments: 0..<3)
    func noticeSurvivesUnreadInput(round: Int) async throws {
        try await TestServer.with({ $0.maxFrameSize = 1024 }) { server in
            // A plain blocking socket: it reads nothing until told to, as a simple device would.
            let socket = try BlockingSocket(port: server.port)
            defer { socket.close() }
            var bytes = ByteBuffer()
            FrameCodec.writeVarint(UInt64(4096), into: &bytes)
            bytes.writeRepeatingByte(0x41, count: 256 << 10)
            socket.sendIgnoringErrors(Array(bytes.readableBytesView))  // a reset may cut this short: what matters is the read
            // Let the server read, answer and close before this side reads anything.
            try await Task.sleep(for: .milliseconds(300))
            let received = socket.receiveUntilClosed()
            var buffer = ByteBuffer(bytes: received)
            let notice = try FrameCodec.readFrame(from: &buffer, maxFrameSize: 1 << 20)
                .map { try Pisync_V1_Response(serializedBytes: Array($0.readableBytesView)) }
            #expect(notice?.id == 0)
            #expect(notice?.error.code == StatusCode.resourceExhausted.rawValue, "round \(round): \(received.count) bytes received")
        }
    }
}

/// A blocking TCP socket to 127.0.0.1 (POSIX calls, no NIO).
final class BlockingSocket {
    private let fd: Int32

    init(port: Int, receiveBuffer: Int32? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if var receiveBuffer {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    func sendIgnoringErrors(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { return }
            offset += sent
        }
    }

    /// Everything received until the peer closes, a reset, or 5 s of silence.
    func receiveUntilClosed() -> [UInt8] {
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return received }
            received += chunk[..<count]
        }
    }

    func close() { _ = Glibc.close(fd) }
}

extension CloseNoticeTests {
    // Regression: the notice waited in the kernel's send queue behind answers the client had
    // not read yet; closing with unread input reset the connection and the kernel dropped the
    // queue, notice included. Now the server shuts its output after the notice and drains the
    // input, so the client reads every answer, then the notice, then the end.
    @Test("behind 2,000 answers the client has not read yet, the notice still arrives, last", arguments: 0..<2)
    func noticeBehindUnreadAnswers(round: Int) async throws {
        try await TestServer.with({ $0.maxFrameSize = 1024 }) { server in
            let socket = try BlockingSocket(port: server.port, receiveBuffer: 4096)
            defer { socket.close() }
            var bytes = ByteBuffer()
            for id in 1...2000 {
                FrameCodec.writeFrame(try Pisync_V1_Request.with { $0.id = UInt64(id); $0.ping = .init() }.serializedBytes() as [UInt8], into: &bytes)
            }
            FrameCodec.writeVarint(UInt64(4096), into: &bytes)
            bytes.writeRepeatingByte(0x41, count: 64 << 10)
            socket.sendIgnoringErrors(Array(bytes.readableBytesView))
            try await Task.sleep(for: .milliseconds(300))
            var received = ByteBuffer(bytes: socket.receiveUntilClosed())
            var frames: [Pisync_V1_Response] = []
            while let frame = try FrameCodec.readFrame(from: &received, maxFrameSize: 1 << 20) {
                frames.append(try Pisync_V1_Response(serializedBytes: Array(frame.readableBytesView)))
            }
            #expect(frames.count == 2001, "round \(round): \(frames.count) frames")
            #expect(frames.last?.id == 0 && frames.last?.error.code == StatusCode.resourceExhausted.rawValue)
        }
    }
}
