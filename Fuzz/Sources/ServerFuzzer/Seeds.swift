import Foundation
import NIOCore
import PiSyncProtocol

/// The starting corpus: the golden vectors and a few conversations built from the same
/// messages, each under a few headers (configurations and read schedules). Written by
/// `scripts/fuzz.sh` into a fresh directory before every run; never committed.
enum Seeds {
    /// Read schedules: all at once, byte by byte, and mixed reads with time passing and the
    /// peer pausing (see ``FuzzInput``).
    static let schedules: [[UInt8]] = [[], [0x01], [0x05, 0x6A, 0x91, 0xE3, 0xC2, 0x80]]

    /// Writes every seed into `directory`, adding the files in `goldenDirectory`.
    static func write(to directory: String, goldenDirectory: String) throws {
        let files = FileManager.default
        try files.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var streams = conversations()
        for name in try files.contentsOfDirectory(atPath: goldenDirectory).sorted() where name.hasSuffix(".bin") {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: goldenDirectory + "/" + name))
            streams.append((name: "golden-" + name.dropLast(4), auth: false, bytes: Array(bytes)))
        }
        for stream in streams {
            let optionSets: [FuzzInput.Options] =
                stream.auth ? [.auth, [.auth, .tightLimits]] : [[], .tightLimits]
            for options in optionSets {
                for (index, schedule) in schedules.enumerated() {
                    let seed = FuzzInput.header(options, schedule: schedule) + stream.bytes
                    let path = "\(directory)/\(stream.name)-o\(options.rawValue)-s\(index)"
                    try Data(seed).write(to: URL(fileURLWithPath: path))
                }
            }
        }
    }

    /// Request streams, each a short conversation; `auth` ones begin with Authenticate.
    static func conversations() -> [(name: String, auth: Bool, bytes: [UInt8])] {
        let operatorToken = FuzzServer.secrets.mint(role: .operator_, name: "fuzz-operator")
        let deviceToken = FuzzServer.secrets.mint(role: .device, name: "pibox-042")
        let failing = (0..<3).map { event("pibox-042", at: 1_700_000_000_000 + $0 * 60_000, files: 0, errors: 2) }
        return [
            ("ping", false, frames([.with { $0.id = 1; $0.ping = .init() }])),
            (
                "record-read", false,
                frames([
                    record(1, device: "", [event("pibook-001", at: 1_700_000_000_000, files: 12, errors: 0)]),
                    .with { $0.id = 2; $0.getHistory = .with { $0.deviceID = "pibook-001"; $0.limit = 5 } },
                    .with { $0.id = 3; $0.listFailures = .with { $0.threshold = 1 } },
                ])
            ),
            (
                "alerts", false,
                frames([
                    .with { $0.id = 1; $0.subscribeFailureAlerts = .init() },
                    record(2, device: "pibox-042", failing),
                    .with { $0.id = 3; $0.cancel = .with { $0.subscriptionID = 1 } },
                ])
            ),
            // Request{id: 9, field 9 (a call from a newer client): empty}, then one naming no call.
            ("unknown-call", false, [0x04, 0x08, 0x09, 0x4A, 0x00] + frames([.with { $0.id = 10 }])),
            ("frame-too-large", false, [0xFF, 0xFF, 0xFF, 0x7F, 0x01]),
            ("bad-length", false, [UInt8](repeating: 0xFF, count: 11)),
            ("half-frame", false, Array(frames([.with { $0.id = 1; $0.ping = .init() }]).dropLast())),
            (
                "operator", true,
                frames([
                    authenticate(1, operatorToken),
                    .with { $0.id = 2; $0.subscribeFailureAlerts = .init() },
                    record(3, device: "pibox-042", failing),
                    .with { $0.id = 4; $0.getHistory = .with { $0.deviceID = "pibox-042" } },
                    .with { $0.id = 5; $0.listFailures = .init() },
                    .with { $0.id = 6; $0.cancel = .with { $0.subscriptionID = 2 } },
                ])
            ),
            (
                "device", true,
                frames([
                    authenticate(1, deviceToken),
                    record(2, device: "pibox-042", failing),
                    record(3, device: "pibook-001", [event("", at: 1_700_000_000_000, files: 1, errors: 0)]),
                    .with { $0.id = 4; $0.getHistory = .with { $0.deviceID = "pibox-042" } },
                ])
            ),
            ("refused-token", true, frames([authenticate(1, deviceToken + "x"), .with { $0.id = 2; $0.ping = .init() }])),
            ("unauthenticated", true, frames([record(1, device: "pibox-042", failing)])),
        ]
    }

    private static func frames(_ requests: [Pisync_V1_Request]) -> [UInt8] {
        var buffer = ByteBuffer()
        for request in requests {
            // Serializing a request built here cannot fail.
            FrameCodec.writeFrame((try? request.serializedBytes() as [UInt8]) ?? [], into: &buffer)
        }
        return Array(buffer.readableBytesView)
    }

    private static func authenticate(_ id: UInt64, _ token: String) -> Pisync_V1_Request {
        .with { $0.id = id; $0.authenticate = .with { $0.token = token } }
    }

    private static func record(_ id: UInt64, device: String, _ events: [Pisync_V1_SyncEvent]) -> Pisync_V1_Request {
        .with { $0.id = id; $0.recordSync = .with { $0.deviceID = device; $0.events = events } }
    }

    private static func event(_ device: String, at timestamp: Int64, files: UInt32, errors: UInt32) -> Pisync_V1_SyncEvent {
        .with {
            $0.deviceID = device
            $0.timestamp = timestamp
            $0.totalFilesSynced = files
            $0.totalErrors = errors
            $0.internetSpeed = 4.5
        }
    }
}
