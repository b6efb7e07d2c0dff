/// The schemas of the REST gateway's bodies, for its OpenAPI document (``RESTOpenAPI``).
enum RESTSchemas {
    static let all: JSONValue = [
        "SyncEventInput": [
            "type": "object",
            "description": "One sync event as a device reports it. Other members are ignored; sync_status is derived, never read.",
            "required": ["device_id", "timestamp", "total_files_synced", "total_errors", "internet_speed"],
            "properties": [
                "device_id": deviceID,
                "timestamp": [
                    "description": .string(
                        "When the sync happened: ISO 8601 with a zone (Z or ±HH:MM), with or without fractional "
                            + "seconds, or Unix milliseconds. Not before --min-timestamp (2000-01-01), not more than "
                            + "--max-future-skew-ms ahead of the server."),
                    "oneOf": [["type": "string", "format": "date-time"], ["type": "integer", "format": "int64"]],
                ],
                "total_files_synced": count("Files the sync transferred."),
                "total_errors": count("Errors the sync hit."),
                "internet_speed": ["type": "number", "minimum": 0, "description": "Link speed during the sync, in Mbps (stored as a 32-bit float)."],
            ],
        ],
        "SyncEvent": [
            "type": "object",
            "description": "A stored sync event.",
            "required": ["device_id", "timestamp", "total_files_synced", "total_errors", "internet_speed", "sync_status"],
            "properties": [
                "device_id": deviceID,
                "timestamp": ["type": "string", "format": "date-time", "description": "ISO 8601 UTC with milliseconds."],
                "total_files_synced": count("Files the sync transferred."),
                "total_errors": count("Errors the sync hit."),
                "internet_speed": ["type": "number", "description": "Mbps."],
                "sync_status": [
                    "type": "string", "enum": ["success", "partial", "failed"],
                    "description": "success: no errors; partial: errors and some files synced; failed: errors and no file synced.",
                ],
            ],
        ],
        "RecordedEvent": [
            "type": "object",
            "required": ["message", "data"],
            "properties": [
                "message": ["type": "string", "description": "'Sync event recorded', or 'Sync event already recorded' for a retry."],
                "duplicate": ["type": "boolean", "description": "Present (true) when the event was stored before: data is the first-stored event."],
                "data": RESTOpenAPI.ref("SyncEvent"),
            ],
        ],
        "History": [
            "type": "object",
            "required": ["device_id", "page", "limit", "total", "events"],
            "properties": [
                "device_id": deviceID,
                "page": ["type": "integer", "description": "The page returned."],
                "limit": ["type": "integer", "description": "Items per page."],
                "total": ["type": "integer", "description": "The device's stored events."],
                "events": ["type": "array", "items": RESTOpenAPI.ref("SyncEvent"), "description": "Newest first."],
            ],
        ],
        "DeviceFailures": [
            "type": "object",
            "required": [
                "device_id", "failed_syncs", "total_syncs", "consecutive_failures", "last_failure_timestamp",
                "last_success_timestamp",
            ],
            "properties": [
                "device_id": deviceID,
                "failed_syncs": ["type": "integer", "description": "Failed syncs stored."],
                "total_syncs": ["type": "integer", "description": "Syncs stored."],
                "consecutive_failures": ["type": "integer", "description": "Failed syncs in a row, newest back."],
                "last_failure_timestamp": ["type": "string", "format": "date-time", "nullable": true],
                "last_success_timestamp": [
                    "type": "string", "format": "date-time", "nullable": true,
                    "description": "null if the device never synced successfully.",
                ],
            ],
        ],
        "FailureList": [
            "type": "object",
            "required": ["threshold", "page", "limit", "total", "devices"],
            "properties": [
                "threshold": ["type": "integer", "description": "Devices listed have more failed syncs than this."],
                "page": ["type": "integer"],
                "limit": ["type": "integer"],
                "total": ["type": "integer", "description": "Devices over the threshold."],
                "devices": ["type": "array", "items": RESTOpenAPI.ref("DeviceFailures"), "description": "Most failed syncs first."],
            ],
        ],
        "Error": [
            "type": "object",
            "required": ["error"],
            "properties": [
                "error": [
                    "type": "object",
                    "required": ["code", "field", "message"],
                    "properties": [
                        "code": [
                            "type": "string",
                            "description": "The binary protocol's code name: INVALID_ARGUMENT, NOT_FOUND, RESOURCE_EXHAUSTED, UNAVAILABLE, ...",
                        ],
                        "field": [
                            "type": "string",
                            "description": "The offending body field, query parameter, device_id, body or Content-Type; empty when none.",
                        ],
                        "message": ["type": "string", "description": "What is wrong, in a sentence."],
                        "retry_after_ms": ["type": "integer", "description": "With 429: how long to wait before retrying."],
                    ],
                ],
            ],
        ],
    ]

    private static let deviceID: JSONValue = [
        "type": "string", "pattern": "^[A-Za-z0-9._:-]{1,128}$", "description": "The device id.",
    ]

    private static func count(_ description: String) -> JSONValue {
        ["type": "integer", "minimum": 0, "maximum": 4_294_967_295, "description": .string(description)]
    }
}
