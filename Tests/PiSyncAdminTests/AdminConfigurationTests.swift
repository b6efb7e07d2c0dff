import PiSyncAdmin
import Testing

@Suite("Admin configuration")
struct AdminConfigurationTests {
    @Test("the admin port binds to loopback unless told otherwise")
    func loopbackByDefault() {
        #expect(AdminConfiguration(port: 9090).host == "127.0.0.1")
    }
}
