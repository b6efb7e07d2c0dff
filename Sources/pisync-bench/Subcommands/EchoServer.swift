import ArgumentParser
import NIOCore
import NIOPosix

/// `pisync-bench echo-server`: the baseline of scripts/bench-compare.sh.
struct EchoServer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo-server",
        abstract: "Echo each varint-delimited frame back, from a handler on the event loop, until killed.",
        discussion: """
            The same framing and bootstrap options as PiSync, with no work between read and \
            write: the ceiling a PiSync request could reach on this machine.
            """)

    @Option(help: "Interface to listen on.") var host = "127.0.0.1"
    @Option(help: "TCP port; 0 picks a free one.") var port = 7879

    func run() async throws {
        let channel = try await FrameEchoServer.bindHandler(group: MultiThreadedEventLoopGroup.singleton, host: host, port: port)
        print("echo listening on \(host):\(channel.localAddress?.port ?? port)")
        try await channel.closeFuture.get()
    }
}
