/// The `/api-docs` page: the OpenAPI document (``RESTOpenAPI``) rendered as one self-contained
/// HTML page (inline style, no script, nothing fetched from elsewhere), where the seed served
/// its Swagger UI.
enum APIDocsPage {
    static func html(_ document: JSONValue) -> String {
        var body = ""
        body += "<h1>\(escape(string(document["info"]?["title"])))</h1>\n"
        if case .string(let text) = document["info"]?["description"] { body += "<p>\(inline(text))</p>\n" }
        if case .object(let paths) = document["paths"] {
            for (path, item) in paths {
                guard case .object(let operations) = item else { continue }
                for (method, operation) in operations {
                    body += self.operation(method: method, path: path, operation, document)
                }
            }
        }
        if case .object(let schemas) = document["components"]?["schemas"] {
            body += "<h2>Schemas</h2>\n"
            for (name, schema) in schemas {
                body += "<section id=\"schema-\(escape(name))\"><h3>\(escape(name))</h3>\n\(properties(schema, document))</section>\n"
            }
        }
        let title = string(document["info"]?["title"])
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
            <style>
            body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
            h2{border-bottom:1px solid #ccc;margin-top:2.5rem}
            code,pre{font-family:ui-monospace,monospace;background:#f4f4f4;border-radius:3px}
            pre{padding:.6rem;overflow-x:auto}
            table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
            .method{font-weight:bold;text-transform:uppercase;color:#fff;background:#2a6;padding:0 .4rem;border-radius:3px}
            .post{background:#36c}
            </style></head><body>
            \(body)</body></html>

            """
    }

    private static func operation(method: String, path: String, _ operation: JSONValue, _ document: JSONValue) -> String {
        var out = "<h2><span class=\"method \(escape(method))\">\(escape(method))</span> <code>\(escape(path))</code></h2>\n"
        if case .string(let summary) = operation["summary"] { out += "<p><strong>\(escape(summary))</strong></p>\n" }
        if case .string(let text) = operation["description"] { out += "<p>\(inline(text))</p>\n" }
        if case .array(let parameters) = operation["parameters"], !parameters.isEmpty {
            out += "<h4>Parameters</h4>\n<table><tr><th>name</th><th>in</th><th>type</th><th>description</th></tr>\n"
            for parameter in parameters {
                let required = parameter["required"] == .bool(true) ? " (required)" : ""
                out += "<tr><td><code>\(string(parameter["name"]))</code>\(required)</td><td>\(string(parameter["in"]))</td>"
                out += "<td>\(type(parameter["schema"]))</td><td>\(inline(string(parameter["description"])))</td></tr>\n"
            }
            out += "</table>\n"
        }
        if let media = operation["requestBody"]?["content"]?["application/json"] {
            out += "<h4>Request body (application/json)</h4>\n<p>\(type(media["schema"]))</p>\n"
            if let example = media["example"] { out += "<pre>\(escape(example.prettyPrinted))</pre>\n" }
        }
        if case .object(let responses) = operation["responses"] {
            out += "<h4>Responses</h4>\n<table><tr><th>status</th><th>description</th><th>body</th></tr>\n"
            for (status, response) in responses {
                var body = ""
                if case .object(let contents) = response["content"], let first = contents.first {
                    let (mediaType, media) = (first.key, first.value)
                    body = "<code>\(escape(mediaType))</code>"
                    if let schema = media["schema"] { body += " \(type(schema))" }
                    if let example = media["example"] { body += "<pre>\(escape(example.prettyPrinted))</pre>" }
                }
                out += "<tr><td>\(escape(status))</td><td>\(inline(string(response["description"])))</td><td>\(body)</td></tr>\n"
            }
            out += "</table>\n"
        }
        return out
    }

    /// A schema's properties as a table.
    private static func properties(_ schema: JSONValue, _ document: JSONValue) -> String {
        var out = ""
        if case .string(let text) = schema["description"] { out += "<p>\(inline(text))</p>\n" }
        guard case .object(let properties) = schema["properties"] else { return out }
        var required: Set<String> = []
        if case .array(let names) = schema["required"] {
            for case .string(let name) in names { required.insert(name) }
        }
        out += "<table><tr><th>field</th><th>type</th><th>description</th></tr>\n"
        for (name, property) in properties {
            let mark = required.contains(name) ? " (required)" : ""
            out += "<tr><td><code>\(escape(name))</code>\(mark)</td><td>\(type(property))</td>"
            out += "<td>\(inline(string(property["description"])))\(nested(property, document))</td></tr>\n"
        }
        return out + "</table>\n"
    }

    /// The properties of an inline object schema (the error body's `error`).
    private static func nested(_ property: JSONValue, _ document: JSONValue) -> String {
        guard property["properties"] != nil else { return "" }
        return properties(property, document)
    }

    /// A schema's type in a few words: a link for a `$ref`, the type with its format, range
    /// and allowed values otherwise.
    private static func type(_ schema: JSONValue?) -> String {
        guard let schema else { return "" }
        if case .string(let reference) = schema["$ref"] {
            let name = reference.split(separator: "/").last.map(String.init) ?? reference
            return "<a href=\"#schema-\(escape(name))\">\(escape(name))</a>"
        }
        if case .array(let choices) = schema["oneOf"] { return choices.map { type($0) }.joined(separator: " or ") }
        if schema["type"] == .string("array") { return "array of \(type(schema["items"]))" }
        var text = escape(string(schema["type"]))
        if case .string(let format) = schema["format"] { text += " (\(escape(format)))" }
        if let minimum = schema["minimum"], let maximum = schema["maximum"] {
            text += " \(minimum.serialized)-\(maximum.serialized)"
        } else if let minimum = schema["minimum"] {
            text += " &ge; \(minimum.serialized)"
        }
        if case .array(let values) = schema["enum"] { text += ": " + values.map { escape(string($0)) }.joined(separator: ", ") }
        if let fallback = schema["default"] { text += ", default \(escape(fallback.serialized))" }
        if schema["nullable"] == .bool(true) { text += " or null" }
        return text
    }

    private static func string(_ value: JSONValue?) -> String {
        if case .string(let text) = value { return text }
        return ""
    }

    /// Escaped text with `code` spans for backticks, as in the document's descriptions.
    private static func inline(_ text: String) -> String {
        escape(text).split(separator: "`", omittingEmptySubsequences: false).enumerated()
            .map { $0.offset % 2 == 1 ? "<code>\($0.element)</code>" : String($0.element) }.joined()
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }
}
