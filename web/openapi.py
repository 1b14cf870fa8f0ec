"""The OpenAPI 3 document of the JSON API (:mod:`web.api`), served at /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(status): _json(_ref("Error"), "refused, with a message") for status in statuses}


_UUID = {"type": "string", "format": "uuid"}
_TIME = {"type": "string", "format": "date-time"}
_URL = {"type": "string", "nullable": True}
_REGISTRATION_FIELDS: dict[str, Any] = {
    "ref": {"type": "string", "example": "KQMT-7KQ2MX"},
    "event_id": _UUID,
    "option_id": _UUID,
    "party_size": {"type": "integer", "minimum": 1},
    "status": {"type": "string", "enum": ["confirmed", "waitlisted", "cancelled"]},
}
_EVENT_ID = {"name": "event_id", "in": "path", "required": True, "schema": _UUID}

DOCUMENT: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {
        "title": "Gather API",
        "version": "1",
        "description": "Events, sign-ups, cancellations and registrations (docs/web.md).",
    },
    "servers": [{"url": "/api/v1"}],
    "paths": {
        "/events": {
            "get": {
                "summary": "The open, upcoming events with their options' seats",
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["events"],
                            "properties": {"events": {"type": "array", "items": _ref("Event")}},
                        },
                        "the events",
                    ),
                    **_errors(503),
                },
            }
        },
        "/events/{event_id}": {
            "get": {
                "summary": "One event",
                "parameters": [_EVENT_ID],
                "responses": {"200": _json(_ref("Event"), "the event"), **_errors(404, 503)},
            }
        },
        "/events/{event_id}/registrations": {
            "get": {
                "summary": "Every registration of the event, with names and contacts (admin)",
                "parameters": [_EVENT_ID],
                "security": [{"adminSession": []}],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["registrations"],
                            "properties": {
                                "registrations": {
                                    "type": "array",
                                    "items": _ref("PrivateRegistration"),
                                }
                            },
                        },
                        "the registrations, per option in sign-up order",
                    ),
                    **_errors(401, 404, 503),
                },
            }
        },
        "/signups": {
            "post": {
                "summary": "Sign up for an option (confirmed, or waitlisted when full)",
                "description": (
                    "Sending the same idempotency_key again returns the same registration "
                    "(200). A contact already signed up for the option under another key "
                    "gets 409, without that registration's ref."
                ),
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("SignupRequest")}},
                },
                "responses": {
                    "201": _json(_ref("Registration"), "signed up"),
                    "200": _json(_ref("Registration"), "sent before with this idempotency_key"),
                    **_errors(400, 409, 413, 415, 503),
                },
            }
        },
        "/cancellations": {
            "post": {
                "summary": "Cancel a registration with its reference and contact",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("CancelRequest")}},
                },
                "responses": {
                    "200": _json(_ref("Registration"), "cancelled"),
                    **_errors(400, 404, 413, 415, 429, 503),
                },
            }
        },
        "/registrations/{ref}": {
            "get": {
                "summary": "A registration's status",
                "description": (
                    "A code that does not exist counts as a failed guess against the client, "
                    "as wrong cancellations do: after 5 in 5 minutes, 429."
                ),
                "parameters": [
                    {"name": "ref", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {
                    "200": _json(_ref("Registration"), "the registration"),
                    **_errors(404, 429, 503),
                },
            }
        },
    },
    "components": {
        "securitySchemes": {
            "adminSession": {"type": "apiKey", "in": "cookie", "name": "gather_admin"}
        },
        "schemas": {
            "Option": {
                "type": "object",
                "required": [
                    "option_id",
                    "label",
                    "position",
                    "capacity",
                    "taken",
                    "free",
                    "waitlist",
                    "waiting",
                    "is_open",
                ],
                "properties": {
                    "option_id": _UUID,
                    "label": {"type": "string"},
                    "position": {"type": "integer"},
                    "capacity": {"type": "integer", "minimum": 0},
                    "taken": {"type": "integer", "minimum": 0},
                    "free": {"type": "integer", "minimum": 0},
                    "waitlist": {"type": "boolean"},
                    "waiting": {"type": "integer", "minimum": 0},
                    "is_open": {"type": "boolean"},
                },
            },
            "Event": {
                "type": "object",
                "required": [
                    "event_id",
                    "title",
                    "description",
                    "location",
                    "starts_at",
                    "ends_at",
                    "time_zone",
                    "short_code",
                    "is_open",
                    "cancelled",
                    "cancelled_at",
                    "icon_url",
                    "background_url",
                    "options",
                ],
                "properties": {
                    "event_id": _UUID,
                    "title": {"type": "string"},
                    "description": {"type": "string"},
                    "location": {"type": "string"},
                    "starts_at": _TIME,
                    "ends_at": _TIME,
                    "time_zone": {"type": "string"},
                    "short_code": {"type": "string"},
                    "is_open": {"type": "boolean"},
                    "cancelled": {
                        "type": "boolean",
                        "description": "staff cancelled it: closed for good, registrants told",
                    },
                    "cancelled_at": {**_TIME, "nullable": True},
                    "icon_url": _URL,
                    "background_url": _URL,
                    "options": {"type": "array", "items": _ref("Option")},
                },
            },
            "Registration": {
                "type": "object",
                "required": list(_REGISTRATION_FIELDS),
                "properties": _REGISTRATION_FIELDS,
            },
            "PrivateRegistration": {
                "type": "object",
                "required": [*_REGISTRATION_FIELDS, "created_at", "name", "contact", "channel"],
                "properties": {
                    **_REGISTRATION_FIELDS,
                    "created_at": _TIME,
                    "name": {"type": "string"},
                    "contact": {"type": "string"},
                    "channel": {"type": "string", "enum": ["kiosk", "web", "sms"]},
                },
            },
            "SignupRequest": {
                "type": "object",
                "required": ["option_id", "name", "contact"],
                "properties": {
                    "option_id": _UUID,
                    "name": {"type": "string", "maxLength": 100},
                    "contact": {"type": "string", "description": "phone number or e-mail"},
                    "party_size": {"type": "integer", "minimum": 1, "maximum": 20, "default": 1},
                    "idempotency_key": {"type": "string", "maxLength": 128},
                },
            },
            "CancelRequest": {
                "type": "object",
                "required": ["ref", "contact"],
                "properties": {"ref": {"type": "string"}, "contact": {"type": "string"}},
            },
            "Error": {
                "type": "object",
                "required": ["error"],
                "properties": {
                    "error": {
                        "type": "object",
                        "required": ["status", "message"],
                        "properties": {
                            "status": {"type": "integer"},
                            "message": {"type": "string"},
                        },
                    }
                },
            },
        },
    },
}
