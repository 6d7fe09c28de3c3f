namespace FtpGateway.Api;

/// <summary>The operator API's OpenAPI 3.0 document, served at /api/openapi.json (a test checks it lists every route).</summary>
internal static class OpenApiDocument
{
    public const string Json = """
        {
          "openapi": "3.0.3",
          "info": {
            "title": "FtpGateway operator API",
            "version": "1",
            "description": "Sessions, bans and users of an FtpGateway (across every gateway of a fleet while State:Redis answers: header X-FtpGateway-Scope fleet, else gateway). On the management port; every call needs a bearer token of Management:ApiKeys and is audited in the log."
          },
          "security": [ { "bearer": [] } ],
          "paths": {
            "/api/sessions": {
              "get": {
                "summary": "Every session: id, user, client address, gateway, start, TLS, running transfer",
                "responses": {
                  "200": { "description": "The sessions", "content": { "application/json": { "schema": { "type": "array", "items": { "$ref": "#/components/schemas/Session" } } } } },
                  "401": { "$ref": "#/components/responses/Unauthorized" }
                }
              }
            },
            "/api/sessions/{id}": {
              "delete": {
                "summary": "End a session with 421 once its running transfer finishes, or at once with now=true (an upload then commits nothing)",
                "parameters": [
                  { "name": "id", "in": "path", "required": true, "schema": { "type": "string" } },
                  { "name": "now", "in": "query", "required": false, "schema": { "type": "boolean", "default": false } }
                ],
                "responses": {
                  "202": { "description": "The gateway running the session ends it", "content": { "application/json": { "schema": { "type": "object", "properties": { "id": { "type": "string" }, "gateway": { "type": "string" }, "now": { "type": "boolean" } } } } } },
                  "401": { "$ref": "#/components/responses/Unauthorized" },
                  "404": { "$ref": "#/components/responses/Error" },
                  "503": { "$ref": "#/components/responses/Error" }
                }
              }
            },
            "/api/bans": {
              "get": {
                "summary": "The bans in force",
                "responses": {
                  "200": { "description": "The bans", "content": { "application/json": { "schema": { "type": "array", "items": { "$ref": "#/components/schemas/Ban" } } } } },
                  "401": { "$ref": "#/components/responses/Unauthorized" }
                }
              },
              "post": {
                "summary": "Ban an address (an IPv6 address bans its /64) on every gateway",
                "requestBody": {
                  "required": true,
                  "content": { "application/json": { "schema": { "type": "object", "required": [ "address", "duration" ], "properties": { "address": { "type": "string", "example": "198.51.100.7" }, "duration": { "type": "string", "example": "2h", "description": "00:30:00, 30s/30m/2h/1d or PT30M; 1 s to 365 days" } } } } }
                },
                "responses": {
                  "201": { "description": "Banned", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Ban" } } } },
                  "400": { "$ref": "#/components/responses/Error" },
                  "401": { "$ref": "#/components/responses/Unauthorized" },
                  "409": { "$ref": "#/components/responses/Error" }
                }
              }
            },
            "/api/bans/{address}": {
              "delete": {
                "summary": "Lift a ban on every gateway; an IPv6 network as 2001:db8:1:2::/64",
                "parameters": [ { "name": "address", "in": "path", "required": true, "schema": { "type": "string" } } ],
                "responses": {
                  "200": { "description": "Lifted", "content": { "application/json": { "schema": { "type": "object", "properties": { "address": { "type": "string" }, "lifted": { "type": "boolean" } } } } } },
                  "400": { "$ref": "#/components/responses/Error" },
                  "401": { "$ref": "#/components/responses/Unauthorized" },
                  "404": { "$ref": "#/components/responses/Error" }
                }
              }
            },
            "/api/users/{name}": {
              "get": {
                "summary": "A user's last login and upload, sessions now, uploads and bytes today (UTC)",
                "parameters": [ { "name": "name", "in": "path", "required": true, "schema": { "type": "string" } } ],
                "responses": {
                  "200": { "description": "The user", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/User" } } } },
                  "401": { "$ref": "#/components/responses/Unauthorized" },
                  "404": { "$ref": "#/components/responses/Error" }
                }
              }
            },
            "/api/users/reload": {
              "post": {
                "summary": "Re-read the users file now (this gateway; the others re-read it within seconds by themselves)",
                "responses": {
                  "200": { "description": "The file's users are in force", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Reload" } } } },
                  "401": { "$ref": "#/components/responses/Unauthorized" },
                  "422": { "description": "The file was not taken; the previous users stay", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Reload" } } } }
                }
              }
            }
          },
          "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "responses": {
              "Unauthorized": { "description": "No valid bearer token", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
              "Error": { "description": "What went wrong", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } }
            },
            "schemas": {
              "Error": { "type": "object", "properties": { "error": { "type": "string" } } },
              "Session": {
                "type": "object",
                "properties": {
                  "id": { "type": "string" }, "user": { "type": "string", "nullable": true }, "clientAddress": { "type": "string" },
                  "gateway": { "type": "string" }, "started": { "type": "string", "format": "date-time" }, "tls": { "type": "boolean" },
                  "transfer": { "type": "object", "nullable": true, "properties": { "command": { "type": "string" }, "path": { "type": "string" }, "bytes": { "type": "integer", "format": "int64" } } }
                }
              },
              "Ban": {
                "type": "object",
                "properties": { "address": { "type": "string" }, "remainingSeconds": { "type": "integer" }, "until": { "type": "string", "format": "date-time" }, "number": { "type": "integer" } }
              },
              "User": {
                "type": "object",
                "properties": {
                  "name": { "type": "string" }, "lastLogin": { "type": "string", "format": "date-time", "nullable": true },
                  "lastUpload": { "type": "string", "format": "date-time", "nullable": true }, "sessionsNow": { "type": "integer" },
                  "uploadsToday": { "type": "integer", "format": "int64" }, "bytesToday": { "type": "integer", "format": "int64" }
                }
              },
              "Reload": {
                "type": "object",
                "properties": { "taken": { "type": "boolean" }, "changed": { "type": "boolean" }, "users": { "type": "integer" }, "error": { "type": "string", "nullable": true } }
              }
            }
          }
        }
        """;
}
