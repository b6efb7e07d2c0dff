import PiSyncServer
import PiSyncStore

/// The OpenAPI 3 document of the REST gateway, served at `/openapi.json`; `/api-docs` is
/// generated from it (``APIDocsPage``), so the two cannot disagree.
enum RESTOpenAPI {
    /// The document, for a gateway that takes bodies up to `maxBodyBytes`.
    static func document(maxBodyBytes: Int) -> JSONValue {
        [
            "openapi": "3.0.3",
            "info": [
                "title": "PiSync REST gateway",
                "version": .string(ServerInfo.version),
                "description": """
                    The seed service's REST API, served by PiSync on its admin HTTP port (`pisync serve --admin-port PORT --rest`) \
                    over the same store and validation as the binary protocol. A POST is answered once its event is durable \
                    under the server's `--fsync` policy. With auth on (`--auth-secret-file`), every request needs an operator \
                    token: `Authorization: Bearer TOKEN` (`pisync token --operator NAME`). Errors are JSON: \
                    `{"error":{"code","field","message"}}`, with the binary protocol's code names.
                    """,
            ],
            "paths": [
                "/api/sync-event": ["post": recordOperation(maxBodyBytes)],
                "/api/device/{id}/sync-history": ["get": historyOperation],
                "/api/devices/repeated-failures": ["get": failuresOperation],
                "/openapi.json": ["get": documentOperation("This OpenAPI 3 document.", "application/json")],
                "/api-docs": ["get": documentOperation("This API's documentation as an HTML page.", "text/html")],
            ],
            "components": ["schemas": RESTSchemas.all, "securitySchemes": ["operatorToken": ["type": "http", "scheme": "bearer"]]],
            "security": [[:], ["operatorToken": []]],
        ]
    }

    private static let example: JSONValue = [
        "device_id": "pibook-001", "timestamp": "2026-11-28T08:00:00.000Z", "total_files_synced": 12,
        "total_errors": 0, "internet_speed": .number(8.5),
    ]

    private static func recordOperation(_ maxBodyBytes: Int) -> JSONValue {
        var stored = example
        if case .object(var members) = stored { members.append(("sync_status", "success")); stored = .object(members) }
        return [
            "operationId": "recordSyncEvent",
            "summary": "Record one sync event",
            "description": """
                Records one event (the binary protocol's RecordSync). Retrying an event already stored, the same device_id \
                and timestamp, stores nothing and answers 200 with the event first stored. Events are rate limited per \
                device as on the binary protocol (--device-rate).
                """,
            "requestBody": [
                "required": true,
                "content": ["application/json": ["schema": ref("SyncEventInput"), "example": example]],
            ],
            "responses": [
                "201": response("Recorded (durable): the stored event.", "RecordedEvent",
                    ["message": "Sync event recorded", "data": stored]),
                "200": response("A retry of an event already stored: the first-stored event.", "RecordedEvent",
                    ["message": "Sync event already recorded", "duplicate": true, "data": stored]),
                "400": errorResponse("A missing field, a wrong type, invalid JSON, or a value the store refuses.",
                    "total_errors", "total_errors must be a whole number from 0 to 4294967295, got -1"),
                "413": errorResponse("The body is over \(maxBodyBytes) bytes.", "body",
                    "the body is over the limit of \(maxBodyBytes) bytes: send one sync event per request", "RESOURCE_EXHAUSTED"),
                "415": errorResponse("The body is not sent as application/json.", "Content-Type",
                    "the body must be JSON: send Content-Type: application/json, got 'text/plain'"),
                "429": errorResponse("The device is over its rate limit; retry after Retry-After seconds.", "device_id",
                    "device 'pibook-001' is over its rate limit of 100 events/s (burst 2000); nothing was recorded: retry after 10 ms",
                    "RESOURCE_EXHAUSTED"),
                "503": errorResponse("The event log cannot be written; nothing was recorded: retry later.", "",
                    "the event log cannot be written (...); nothing was recorded: retry later", "UNAVAILABLE"),
            ],
        ]
    }

    private static let historyOperation: JSONValue = [
        "operationId": "getSyncHistory",
        "summary": "A device's sync history, newest first",
        "description": "One page of the device's events, newest first (the binary protocol's GetHistory).",
        "parameters": [
            ["name": "id", "in": "path", "required": true, "description": "The device id (A-Z a-z 0-9 . _ : -, at most 128).",
             "schema": ["type": "string"]],
            pageParameter, limitParameter,
        ],
        "responses": [
            "200": response("One page of the history.", "History", nil),
            "400": errorResponse("A malformed device id or query parameter.", "limit",
                "limit must be between 1 and 100, got 500"),
            "404": errorResponse("No syncs recorded for this device.", "device_id",
                "no syncs recorded for device 'pibook-404'", "NOT_FOUND"),
        ],
    ]

    private static let failuresOperation: JSONValue = [
        "operationId": "listRepeatedFailures",
        "summary": "Devices with repeated failed syncs",
        "description": "The devices with more than `threshold` failed syncs (default 3), most failures first (the binary protocol's ListFailures).",
        "parameters": [
            ["name": "threshold", "in": "query", "description": "List devices with more failed syncs than this (default 3).",
             "schema": ["type": "integer", "minimum": 1, "maximum": .number(Double(UInt32.max)), "default": 3]],
            pageParameter, limitParameter,
        ],
        "responses": [
            "200": response("One page of devices.", "FailureList", nil),
            "400": errorResponse("A malformed or unknown query parameter.", "threshold", "threshold must be a whole number >= 1, got 'x'"),
        ],
    ]

    private static let pageParameter: JSONValue = [
        "name": "page", "in": "query", "description": "The 1-based page.",
        "schema": ["type": "integer", "minimum": 1, "maximum": .number(Double(UInt32.max)), "default": 1],
    ]

    private static let limitParameter: JSONValue = [
        "name": "limit", "in": "query", "description": "Items per page.",
        "schema": ["type": "integer", "minimum": 1, "maximum": .number(Double(PageRequest.maxLimit)),
                   "default": .number(Double(PageRequest.defaultLimit))],
    ]

    private static func documentOperation(_ summary: String, _ mediaType: String) -> JSONValue {
        ["summary": .string(summary), "responses": ["200": ["description": "The document.", "content": [mediaType: [:]]]]]
    }

    static func ref(_ schema: String) -> JSONValue { ["$ref": .string("#/components/schemas/\(schema)")] }

    private static func response(_ description: String, _ schema: String, _ example: JSONValue?) -> JSONValue {
        var media: [(key: String, value: JSONValue)] = [("schema", ref(schema))]
        if let example { media.append(("example", example)) }
        return ["description": .string(description), "content": ["application/json": .object(media)]]
    }

    private static func errorResponse(
        _ description: String, _ field: String, _ message: String, _ code: String = "INVALID_ARGUMENT"
    ) -> JSONValue {
        response(description, "Error", ["error": ["code": .string(code), "field": .string(field), "message": .string(message)]])
    }
}
