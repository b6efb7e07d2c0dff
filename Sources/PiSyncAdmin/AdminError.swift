import Foundation
import Hummingbird

/// The JSON error bodies of the admin port: `{"error":{"code":…,"message":…}}`, codes named
/// as the binary protocol's status codes.
enum AdminError {
    private struct Body: Encodable {
        struct Detail: Encodable {
            var code: String
            var message: String
        }
        var error: Detail
    }

    /// A response with `status` and a JSON body carrying `code` and `message`.
    static func response(_ status: HTTPResponse.Status, code: String, message: String) -> Response {
        let body = (try? JSONEncoder().encode(Body(error: .init(code: code, message: message)))) ?? Data()
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
