"""The JSON API, checked against its own OpenAPI 3 document while it runs on a real server.

Every operation of the document is called (with good and bad input); every answer's status
must be documented for that operation and its body must match the documented schema.
"""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from storage.store import Store
from tests.helpers import free_port, make_event
from web.app import make_app
from web.server import WebServer


def check(schema: dict[str, Any], value: Any, document: dict[str, Any], where: str = "$") -> None:
    """Raise AssertionError where ``value`` does not match the OpenAPI ``schema``."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        check(document["components"]["schemas"][name], value, document, where)
        return
    if value is None:
        assert schema.get("nullable"), f"{where}: null is not allowed"
        return
    kind = schema.get("type")
    types = {"object": dict, "array": list, "string": str, "boolean": bool, "integer": int}
    if kind is not None:
        ok = isinstance(value, types[kind]) and not (kind == "integer" and isinstance(value, bool))
        assert ok, f"{where}: {value!r} is not {kind}"
    if "enum" in schema:
        assert value in schema["enum"], f"{where}: {value!r} not in {schema['enum']}"
    if "minimum" in schema:
        assert value >= schema["minimum"], f"{where}: {value} < {schema['minimum']}"
    if schema.get("format") == "uuid":
        uuid.UUID(value)
    if schema.get("format") == "date-time":
        assert datetime.fromisoformat(value).tzinfo is not None, f"{where}: no time zone"
    if kind == "object":
        missing = set(schema.get("required", ())) - set(value)
        assert not missing, f"{where}: missing {sorted(missing)}"
        properties = schema.get("properties", {})
        extra = set(value) - set(properties)
        assert not extra, f"{where}: undocumented {sorted(extra)}"
        for name, item in value.items():
            check(properties[name], item, document, f"{where}.{name}")
    if kind == "array":
        for index, item in enumerate(value):
            check(schema["items"], item, document, f"{where}[{index}]")


@pytest.fixture(scope="module")
def api(web_context: Any) -> Iterator[str]:
    """The base address of a web server running the API on the test keyspace."""
    server = WebServer(make_app(web_context), "127.0.0.1", free_port())
    server.start()
    yield f"http://127.0.0.1:{server.port}"
    server.stop()


def call(
    base: str, method: str, path: str, body: Any = None, raw: bytes | None = None
) -> tuple[int, Any]:
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    request = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_every_operation_answers_as_documented(api: str, store: Store) -> None:
    status, document = call(api, "GET", "/api/v1/openapi.json")
    assert status == 200 and document["openapi"].startswith("3.")
    event, option = make_event(store, "P" + secrets.token_hex(4).upper(), capacity=1)
    _full, full_option = make_event(store, "Q" + secrets.token_hex(4).upper(), 1, False)
    store.registrations.sign_up(full_option.option_id, "Only", "only@example.org")
    signup = {
        "option_id": str(option.option_id),
        "name": "<i>Api</i>",
        "contact": "api@example.org",
        "idempotency_key": "api-1",
    }
    cases: list[tuple[str, str, str, Any, bytes | None]] = [
        ("get", "/events", "/events", None, None),
        ("get", "/events/{event_id}", f"/events/{event.event_id}", None, None),
        ("get", "/events/{event_id}", f"/events/{uuid.uuid4()}", None, None),
        (
            "get",
            "/events/{event_id}/registrations",
            f"/events/{event.event_id}/registrations",
            None,
            None,
        ),
        ("post", "/signups", "/signups", signup, None),
        ("post", "/signups", "/signups", signup, None),
        ("post", "/signups", "/signups", {**signup, "idempotency_key": "api-2"}, None),
        (
            "post",
            "/signups",
            "/signups",
            {**signup, "contact": "waiting@example.org", "idempotency_key": "api-3"},
            None,
        ),
        (
            "post",
            "/signups",
            "/signups",
            {**signup, "option_id": str(full_option.option_id), "contact": "no@example.org"},
            None,
        ),
        ("post", "/signups", "/signups", {**signup, "party_size": 0}, None),
        ("post", "/signups", "/signups", None, b'{"name": "\xff"}'),
        ("post", "/signups", "/signups", None, b"[1, 2"),
        ("get", "/registrations/{ref}", "/registrations/NOPE-1", None, None),
        (
            "post",
            "/cancellations",
            "/cancellations",
            {"ref": "NOPE-1", "contact": "a@example.org"},
            None,
        ),
        ("post", "/cancellations", "/cancellations", {"ref": 5}, None),
    ]
    seen: dict[tuple[str, str], set[int]] = {}
    statuses = []
    for method, template, path, body, raw in cases:
        status, answer = call(api, method.upper(), "/api/v1" + path, body, raw)
        operation = document["paths"][template][method]
        assert str(status) in operation["responses"], f"{method} {path}: {status} undocumented"
        schema = operation["responses"][str(status)]["content"]["application/json"]["schema"]
        check(schema, answer, document, f"{method} {path}")
        seen.setdefault((template, method), set()).add(status)
        statuses.append(status)
        if template == "/signups" and status in (200, 201):
            ref = answer["ref"]
            status, answer = call(api, "GET", f"/api/v1/registrations/{ref}")
            check(
                document["paths"]["/registrations/{ref}"]["get"]["responses"]["200"]["content"][
                    "application/json"
                ]["schema"],
                answer,
                document,
            )
            seen.setdefault(("/registrations/{ref}", "get"), set()).add(status)
    assert statuses[4:11] == [201, 200, 409, 201, 409, 400, 400]
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
    assert documented == set(seen), documented ^ set(seen)
    waiting_ref = store.registrations.registrations(option.option_id, "waitlisted")[0].ref
    status, answer = call(
        api, "POST", "/api/v1/cancellations", {"ref": waiting_ref, "contact": "waiting@example.org"}
    )
    assert status == 200 and answer["status"] == "cancelled"
    status, answer = call(api, "POST", "/api/v1/signups", raw=b"name=x")
    assert status == 400  # a JSON content type with a form body: not JSON
    status, answer = call(api, "POST", "/api/v1/signups", raw=b"[" * 30000 + b"]" * 30000)
    assert status == 400 and answer["error"]["message"] == "The body is not valid JSON."
