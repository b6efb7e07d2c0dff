import Foundation
import Hummingbird
import PiSyncAuth

/// The admin port's auth, when the server has auth on: `/metrics` stays open to loopback
/// peers (a local Prometheus or node agent); everything else, the routes mounted through
/// ``AdminServer``'s `additionalRoutes` included, needs `Authorization: Bearer <operator token>`.
///
/// No token, or one that does not verify: 401 with `WWW-Authenticate: Bearer` and a JSON body.
/// A device token: 403. The token is never logged or echoed.
struct AdminAuthMiddleware: RouterMiddleware {
    typealias Context = AdminRequestContext

    let secrets: AuthSecrets

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        if request.uri.path == AdminServer.metricsPath && context.peerIsLoopback {
            return try await next(request, context)
        }
        guard let header = request.headers[.authorization] else {
            return Self.unauthenticated("this endpoint needs Authorization: Bearer <operator token> (pisync token --operator NAME)", error: nil)
        }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            return Self.unauthenticated("the Authorization header must be 'Bearer <operator token>'", error: "invalid_request")
        }
        let identity: Identity
        do {
            identity = try secrets.verify(String(parts[1]).trimmingCharacters(in: .whitespaces))
        } catch {
            context.logger.notice("admin request with a refused token", metadata: ["reason": "\(error)"])
            return Self.unauthenticated("token refused: \(error)", error: "invalid_token")
        }
        guard identity.role == .operator_ else {
            context.logger.notice("admin request with a device token", metadata: ["device": "\(identity.name)"])
            return AdminError.response(
                .forbidden, code: "PERMISSION_DENIED",
                message: "device tokens cannot use the admin port: use an operator token (pisync token --operator NAME)")
        }
        var context = context
        context.logger[metadataKey: "operator"] = "\(identity.name)"
        return try await next(request, context)
    }

    private static func unauthenticated(_ message: String, error: String?) -> Response {
        var response = AdminError.response(.unauthorized, code: "UNAUTHENTICATED", message: message)
        response.headers[.wwwAuthenticate] = error.map { #"Bearer realm="pisync", error="\#($0)""# } ?? #"Bearer realm="pisync""#
        return response
    }
}
