"""Unhappy paths of the ricloud dialect: auth, tenancy, bad filters and bodies, unknown ids."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from api.errors import ApiError, Conflict, InvalidRequest, Unavailable
from api.render.ricloud import render_error
from tests.conftest import OTHER_PROJECT, PROJECT, TOKENS, Api, eventually

UNKNOWN = str(uuid.uuid4())
ROUTES = [
    ("GET", "/tasks"),
    ("POST", "/tasks"),
    ("GET", f"/tasks/{UNKNOWN}"),
    ("GET", f"/tasks/{UNKNOWN}/results"),
    ("GET", "/results"),
    ("GET", f"/results/{UNKNOWN}"),
    ("POST", f"/results/{UNKNOWN}/ack"),
    ("GET", f"/results/{UNKNOWN}/data"),
]


def error_of(answer: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == {"error", "message", "params"}, body
    assert body["error"] == code and body["message"], body
    return body["params"]  # type: ignore[no-any-return]


@pytest.fixture
async def ricloud(stack: Api) -> AsyncIterator[httpx.AsyncClient]:
    async with stack.client("acme", scheme="Token") as client:
        yield client


@pytest.fixture(scope="module")
async def acme_task(stack: Api) -> dict[str, Any]:
    """A finished acme task with one result."""
    async with stack.client("acme", scheme="Token") as client:
        result = {"data": "r", "encoding": "utf-8", "content_type": "text/plain"}
        created = await client.post(
            "/tasks", json={"type": "SCRIPTED", "payload": {"results": [result]}}
        )
        assert created.status_code == 201

        async def check() -> dict[str, Any] | None:
            task = (await client.get(f"/tasks/{created.json()['id']}")).json()
            return task if task["state"] == "succeeded" else None

        return await eventually(check)  # type: ignore[no-any-return]


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_no_credentials_is_401_not_authenticated(stack, method, path) -> None:
    async with httpx.AsyncClient(base_url=stack.url) as anonymous:
        answer = await anonymous.request(method, path, json={"type": "SCRIPTED"})
    error_of(answer, 401, "not-authenticated")


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize(
    "authorization",
    ["Token nope", f"Bearer {TOKENS['acme']}", f"token{TOKENS['acme']}", "Token"],
)
async def test_wrong_credentials_are_401_authentication_failed(
    stack, method, path, authorization
) -> None:
    headers = {"Authorization": authorization}
    async with httpx.AsyncClient(base_url=stack.url, headers=headers) as client:
        answer = await client.request(method, path, json={"type": "SCRIPTED"})
    error_of(answer, 401, "authentication-failed")


async def test_api_key_query_parameter_is_not_a_ricloud_credential(stack) -> None:
    async with httpx.AsyncClient(base_url=stack.url) as anonymous:
        answer = await anonymous.get(f"/tasks?api_key={TOKENS['acme']}")
    error_of(answer, 401, "not-authenticated")


async def test_taskhook_errors_keep_their_own_shape(stack) -> None:
    async with stack.client("acme", scheme="Token") as client:
        answer = await client.get("/v1/tasks")
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "unauthorized"


async def test_another_organisations_task_and_results_are_404(stack, acme_task) -> None:
    [result] = acme_task["results"]["data"]
    async with stack.client("globex", scheme="Token") as globex:
        for method, path in [
            ("GET", f"/tasks/{acme_task['id']}"),
            ("GET", f"/tasks/{acme_task['id']}/results"),
            ("GET", f"/results/{result['id']}"),
            ("POST", f"/results/{result['id']}/ack"),
            ("GET", f"/results/{result['id']}/data"),
        ]:
            error_of(await globex.request(method, path), 404, "not-found")


async def test_another_organisations_tasks_are_not_listed(stack, acme_task) -> None:
    async with stack.client("globex", scheme="Token") as globex:
        tasks = (await globex.get("/tasks?limit=1000")).json()
        results = (await globex.get(f"/results?task={acme_task['id']}")).json()
    assert acme_task["id"] not in [t["id"] for t in tasks["data"]]
    assert results["data"] == [] and results["total_count"] == 0


@pytest.mark.parametrize("name", ["after_id", "before_id"])
async def test_another_organisations_cursor_is_400(stack, acme_task, name) -> None:
    async with stack.client("globex", scheme="Token") as globex:
        answer = await globex.get(f"/tasks?{name}={acme_task['id']}")
    assert error_of(answer, 400, "invalid-parameter") == {"parameter": name}


async def test_another_organisations_blocker_is_refused(stack, acme_task) -> None:
    async with stack.client("globex", scheme="Token") as globex:
        body = {"type": "SCRIPTED", "blocked_by": [acme_task["id"]]}
        answer = await globex.post("/tasks", json=body)
    assert error_of(answer, 400, "invalid-body") == {"field": "blocked_by"}


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("date_created[gte]=yesterday", "date_created[gte]"),
        ("date_started=2024-13-01", "date_started"),
        ("date_completed[lt]=", "date_completed[lt]"),
        ("date_created[lt]=9999-12-31T23:59:59-05:00", "date_created[lt]"),
        ("date_created[ne]=2024-01-01T00:00:00Z", "date_created[ne]"),
        ("date_created[gte=2024-01-01T00:00:00Z", "date_created[gte"),
        ("state=done", "state"),
        ("state=completed", "state"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=ten", "limit"),
        ("after_id=not-a-task", "after_id"),
        (f"after_id={UNKNOWN}", "after_id"),
        (f"before_id={UNKNOWN}", "before_id"),
        (f"after_id={UNKNOWN}&before_id={UNKNOWN}", "before_id"),
        ("type=%00", "type"),
        ("source=a%1fb", "source"),
    ],
)
async def test_bad_task_list_parameter_is_400_naming_it(ricloud, query, parameter) -> None:
    answer = await ricloud.get(f"/tasks?{query}")
    assert error_of(answer, 400, "invalid-parameter") == {"parameter": parameter}


@pytest.mark.parametrize(
    ("query", "parameter"),
    [("state=gone", "state"), ("task=42", "task"), ("limit=0", "limit"), ("limit=x", "limit")],
)
async def test_bad_result_list_parameter_is_400_naming_it(ricloud, query, parameter) -> None:
    answer = await ricloud.get(f"/results?{query}")
    assert error_of(answer, 400, "invalid-parameter") == {"parameter": parameter}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/tasks/{UNKNOWN}"),
        ("GET", f"/tasks/{UNKNOWN}/results"),
        ("GET", "/tasks/not-a-task"),
        ("GET", f"/results/{UNKNOWN}"),
        ("GET", "/results/not-a-result"),
        ("POST", f"/results/{UNKNOWN}/ack"),
        ("GET", f"/results/{UNKNOWN}/data"),
        ("GET", f"/tasks/{UNKNOWN}/nothing-here"),
    ],
)
async def test_unknown_id_is_404(ricloud, method, path) -> None:
    error_of(await ricloud.request(method, path), 404, "not-found")


async def test_unsupported_method_is_405_in_ricloud_shape(ricloud) -> None:
    error_of(await ricloud.delete(f"/tasks/{UNKNOWN}"), 405, "method-not-allowed")


@pytest.mark.parametrize("raw", [b'{"type": "SCRIPTED", ', b"[1, 2]", b'"SCRIPTED"', b"", b"   "])
async def test_malformed_body_is_400_invalid_body(ricloud, raw) -> None:
    headers = {"Content-Type": "application/json"}
    answer = await ricloud.post("/tasks", content=raw, headers=headers)
    error_of(answer, 400, "invalid-body")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "type"),
        ({"type": 7}, "type"),
        ({"type": "NOT_REGISTERED"}, "type"),
        ({"type": "SCRIPTED", "colour": "red"}, "colour"),
        ({"type": "SCRIPTED", "target": {"nested": True}}, "target"),
        ({"type": "SCRIPTED", "client_account_id": "56"}, "client_account_id"),
        ({"type": "SCRIPTED", "session": "s" * 300}, "session"),
        ({"type": "SCRIPTED", "blocked_by": ["not-a-task"]}, "blocked_by"),
        ({"type": "SCRIPTED", "blocked_by": [UNKNOWN]}, "blocked_by"),
    ],
)
async def test_invalid_field_is_400_naming_it(ricloud, body, field) -> None:
    answer = await ricloud.post("/tasks", json=body)
    assert error_of(answer, 400, "invalid-body") == {"field": field}


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"-Infinity"])
async def test_non_finite_number_in_the_payload_is_400(ricloud, number) -> None:
    raw = b'{"type": "SCRIPTED", "payload": {"sleep": %s}}' % number
    answer = await ricloud.post("/tasks", content=raw, headers={"Content-Type": "application/json"})
    assert error_of(answer, 400, "invalid-body") == {"field": "payload"}


async def test_too_many_blockers_is_422_naming_blocked_by(ricloud) -> None:
    body = {"type": "SCRIPTED", "blocked_by": [str(uuid.uuid4()) for _ in range(21)]}
    answer = await ricloud.post("/tasks", json=body)
    assert error_of(answer, 422, "invalid-body") == {"field": "blocked_by"}


async def test_body_over_the_limit_is_413(ricloud) -> None:
    answer = await ricloud.post("/tasks", json={"type": "SCRIPTED", "payload": "x" * 1_100_000})
    error_of(answer, 413, "body-too-large")


async def test_payload_over_its_limit_is_413_naming_payload(ricloud) -> None:
    answer = await ricloud.post("/tasks", json={"type": "SCRIPTED", "payload": "x" * 300_000})
    assert error_of(answer, 413, "body-too-large") == {"field": "payload"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"user": "Alice"}, "user"),
        ({"client_account_id": 99}, "client_account_id"),
        ({"project_id": OTHER_PROJECT}, "project_id"),
    ],
)
async def test_outside_the_keys_scope_is_403_missing_scope(stack, body, field) -> None:
    async with stack.client("bob", scheme="Token") as bob:
        answer = await bob.post("/tasks", json={"type": "SCRIPTED", **body})
    assert error_of(answer, 403, "missing-scope") == {"field": field}


async def test_inside_the_keys_scope_is_created(stack) -> None:
    async with stack.client("bob", scheme="Token") as bob:
        body = {"type": "SCRIPTED", "client_account_id": 57, "project_id": PROJECT}
        answer = await bob.post("/tasks", json=body)
    assert answer.status_code == 201 and answer.json()["user"] == "Bob Marley"


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (Conflict("busy"), 409, "conflict"),
        (Unavailable("Temporal is away"), 503, "service-unavailable"),
        (ApiError("boom", code="internal_error"), 500, "server-error"),
        (InvalidRequest("bad", field="limit", location="query"), 400, "invalid-parameter"),
        (InvalidRequest("bad", code="invalid_json", location="body"), 400, "invalid-body"),
    ],
)
def test_generic_errors_render_with_ricloud_codes(error, status, code) -> None:
    if code == "server-error":
        error.status = 500
    answer = render_error(error)
    assert answer.status_code == status
    assert bytes(answer.body).startswith(f'{{"error":"{code}"'.encode())


async def test_control_characters_in_a_label_are_400_naming_it(ricloud) -> None:
    answer = await ricloud.post("/tasks", json={"type": "SCRIPTED", "session": "a\u0000b"})
    assert error_of(answer, 400, "invalid-body") == {"field": "session"}
