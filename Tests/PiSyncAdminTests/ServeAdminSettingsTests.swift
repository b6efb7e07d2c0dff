import ArgumentParser
import NIOCore
import PiSyncAdmin
import Testing
@testable import pisync

/// `serve --admin-port`, `--admin-host` and `--rest`: off by default, loopback by default, and
/// `--rest` refused without a port.
@Suite("serve's admin settings")
struct ServeAdminSettingsTests {
    static func admin(_ arguments: [String], environment: [String: String] = [:]) throws -> AdminConfiguration? {
        try Serve.parse(arguments).resolveAdmin(SettingsSource(environment: environment, dotEnv: [:]))
    }

    @Test("the admin port is off unless --admin-port or PISYNC_ADMIN_PORT names one")
    func offByDefault() throws {
        #expect(try Self.admin([]) == nil)
        #expect(try Self.admin(["--admin-port", "9464"]) == AdminConfiguration(host: "127.0.0.1", port: 9464))
        #expect(try Self.admin([], environment: ["PISYNC_ADMIN_PORT": "0"])?.port == 0)
        let everywhere = try Self.admin([], environment: ["PISYNC_ADMIN_PORT": "9464", "PISYNC_ADMIN_HOST": "0.0.0.0"])
        #expect(everywhere?.host == "0.0.0.0")
        #expect(try Self.admin(["--admin-port", "9464", "--rest"])?.rest == true)
        #expect(try Self.admin(["--admin-port", "9464"], environment: ["PISYNC_REST": "true"])?.rest == true)
    }

    @Test("--rest without --admin-port, and a port out of range, are refused with the flag named")
    func refused() throws {
        #expect {
            _ = try Self.admin(["--rest"])
        } throws: { error in
            "\(error)".contains("--rest") && "\(error)".contains("--admin-port")
        }
        #expect {
            _ = try Self.admin(["--admin-port", "70000"])
        } throws: { error in
            "\(error)".contains("admin-port 70000")
        }
    }

    @Test("only loopback peers count as loopback", arguments: [
        ("127.0.0.1", true), ("127.8.9.10", true), ("::1", true), ("::ffff:127.0.0.1", true),
        ("10.0.0.1", false), ("192.168.1.20", false), ("::ffff:10.0.0.1", false), ("fe80::1", false),
    ])
    func loopback(address: String, loopback: Bool) throws {
        #expect(AdminRequestContext.isLoopback(try SocketAddress(ipAddress: address, port: 1)) == loopback)
    }
}
