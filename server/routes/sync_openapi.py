"""The OpenAPI description of the sync endpoints (SYNC.md, protocol 1), served at
`/sync/openapi.json` for tools; `tests/test_sync_openapi.py` holds the app to it with
schemathesis. Only what SYNC.md fixes and the optional fields it allows."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

UUID = {"type": "string", "format": "uuid"}
SHA256 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


UNAVAILABLE = {
    **_error("temporary failure (SYNC.md rule 6); try again after Retry-After seconds"),
    "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 0}, "required": True}},
}
SIGNED_IN = {"401": _error("not signed in"), "503": UNAVAILABLE}
BODY_REFUSED = {
    "400": _error("malformed body (rule 7)"),
    "413": _error("body too large (rule 7)"),
    "415": _error("not application/json"),
}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error", "message"],
        "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
    },
    "Device": {
        "type": "object",
        "description": "what the phone knows of itself (optional field of protocol 1)",
        "additionalProperties": True,
    },
    "Mutation": {
        "type": "object",
        "required": ["id", "name", "args"],
        "properties": {
            "id": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
            "name": {"type": "string"},
            "args": {"type": "object"},
            "at": {"type": "string", "format": "date-time", "nullable": True},
        },
    },
    "PushRequest": {
        "type": "object",
        "required": ["protocol", "client_id", "mutations"],
        "properties": {
            "protocol": {"type": "integer", "enum": [1]},
            "client_id": UUID,
            "mutations": {"type": "array", "maxItems": 500, "items": _ref("Mutation")},
            "device": _ref("Device"),
        },
    },
    "Result": {
        "type": "object",
        "required": ["id", "status"],
        "properties": {
            "id": {"type": "integer"},
            "status": {"type": "string", "enum": ["applied", "conflict", "rejected", "out_of_order"]},
            "replayed": {"type": "boolean"},
            "code": {"type": "string"},
            "message": {"type": "string"},
            "conflicts": {"type": "array", "items": {"type": "string"}},
            "conflict_id": UUID,
            "conflict_ids": {"type": "array", "items": UUID},
        },
    },
    "PushResponse": {
        "type": "object",
        "required": ["protocol", "last_mutation_id", "results"],
        "properties": {
            "protocol": {"type": "integer", "enum": [1]},
            "last_mutation_id": {"type": "integer", "minimum": 0},
            "results": {"type": "array", "items": _ref("Result")},
        },
    },
    "PullRequest": {
        "type": "object",
        "required": ["protocol", "client_id"],
        "properties": {
            "protocol": {"type": "integer", "enum": [1]},
            "client_id": UUID,
            "cursor": {"type": "string", "nullable": True},
            "device": _ref("Device"),
        },
    },
    "Change": {
        "type": "object",
        "required": ["type", "id", "op", "version"],
        "properties": {
            "type": {"type": "string"},
            "id": {"type": "string"},
            "op": {"type": "string", "enum": ["put", "del"]},
            "version": {"type": "integer"},
            "data": {"type": "object"},
        },
    },
    "PullResponse": {
        "type": "object",
        "required": ["protocol", "cursor", "reset", "last_mutation_id", "more", "changes"],
        "properties": {
            "protocol": {"type": "integer", "enum": [1]},
            "cursor": {"type": "string"},
            "reset": {"type": "boolean"},
            "last_mutation_id": {"type": "integer", "minimum": 0},
            "more": {"type": "boolean"},
            "total": {
                "type": "integer",
                "minimum": 0,
                "description": "Reset pages only: the records the whole download carries (progress).",
            },
            "changes": {"type": "array", "items": _ref("Change")},
        },
    },
    "Login": {
        "type": "object",
        "required": ["username", "password"],
        "properties": {"username": {"type": "string"}, "password": {"type": "string"}},
    },
    "SignedIn": {
        "type": "object",
        "required": ["user", "csrf_token"],
        "properties": {
            "user": {
                "type": "object",
                "required": ["id", "username", "role", "grid_ids", "department_id"],
                "properties": {
                    "id": UUID,
                    "username": {"type": "string"},
                    "role": {"type": "string"},
                    "grid_ids": {"type": "array", "items": UUID},
                    "department_id": {**UUID, "nullable": True},
                },
            },
            "csrf_token": {"type": "string"},
            "owing_phones": {
                "type": "array",
                "description": "the caller's phones whose latest report owes work (docs/sync.md)",
                "items": {
                    "type": "object",
                    "required": ["client_id", "owed", "last_contact"],
                    "properties": {
                        "client_id": UUID,
                        "owed": {"type": "integer", "minimum": 0},
                        "last_contact": {"type": "string", "format": "date-time"},
                    },
                },
            },
        },
    },
    "ClientRequest": {
        "type": "object",
        "required": ["protocol", "client_id"],
        "properties": {"protocol": {"type": "integer", "enum": [1]}, "client_id": UUID},
    },
    "RescueKey": {
        "type": "object",
        "required": ["client_id", "user_id", "key"],
        "properties": {
            "client_id": UUID,
            "user_id": UUID,
            "key": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        },
    },
    "Stored": {
        "type": "object",
        "required": ["sha256", "stored"],
        "properties": {"sha256": SHA256, "stored": {"type": "boolean"}},
    },
}


def _exchange(summary: str, request: str, answer: dict[str, Any]) -> dict[str, Any]:
    """A signed-in JSON POST of the sync contract: push, pull, the rescue key."""
    return {
        "post": {
            "summary": summary,
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref(request)}}},
            "responses": {
                "200": answer,
                "403": _error("the client belongs to another user (rule 1)"),
                **SIGNED_IN,
                **BODY_REFUSED,
            },
        }
    }


BLOB_NAME = {"name": "sha256", "in": "path", "required": True, "schema": SHA256}
IMAGES = {
    kind: {"schema": {"type": "string", "format": "binary"}}
    for kind in ("image/jpeg", "image/png", "image/webp")
}

OPENAPI: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Doorstep sync", "version": "1", "description": "SYNC.md protocol 1"},
    "paths": {
        "/sync/login": {
            "post": {
                "summary": "sign in; sets the session cookie",
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("Login")}}},
                "responses": {
                    "200": _json(_ref("SignedIn"), "signed in"),
                    "401": _error("bad credentials"),
                    "429": _error("rate limited"),
                    "503": UNAVAILABLE,
                    **BODY_REFUSED,
                },
            }
        },
        "/sync/push": _exchange(
            "apply a client's mutations exactly once, in order (rules 1-8)",
            "PushRequest",
            _json(_ref("PushResponse"), "one result per mutation"),
        ),
        "/sync/pull": _exchange(
            "the changes in the caller's scope since the cursor (rules 9-13)",
            "PullRequest",
            _json(_ref("PullResponse"), "one page of changes"),
        ),
        "/sync/rescue-key": _exchange(
            "the key this client signs its rescue file with (docs/sync.md)",
            "ClientRequest",
            _json(_ref("RescueKey"), "the client's key"),
        ),
        "/sync/blobs/{sha256}": {
            "parameters": [BLOB_NAME],
            "put": {
                "summary": "store a photo under the SHA-256 of its bytes",
                "requestBody": {"required": True, "content": IMAGES},
                "responses": {
                    "200": _json(_ref("Stored"), "already stored"),
                    "201": _json(_ref("Stored"), "stored"),
                    "400": _error("the name is no SHA-256, or the bytes do not hash to it"),
                    "413": _error("larger than 10 MB"),
                    "415": _error("not a JPEG, PNG or WebP"),
                    **SIGNED_IN,
                },
            },
            "get": {
                "summary": "a photo the caller may see",
                "responses": {
                    "200": {"description": "the photo", "content": IMAGES},
                    "400": _error("the name is no SHA-256"),
                    "404": _error("no such photo, or not the caller's to see"),
                    **SIGNED_IN,
                },
            },
        },
    },
    "components": {"schemas": SCHEMAS},
}


async def openapi(_request: Request) -> Response:
    return JSONResponse(OPENAPI)
