"""Unhappy paths of `/v1/tasks`: auth, tenancy, malformed and oversized input, impossible times."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import TOKENS, Servers

TARGET = "http://127.0.0.1:9/never-called"
UNKNOWN_ID = "task_" + "0" * 32


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}, body
    return body["error"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic x"}]
)
async def test_missing_or_bad_token_is_401(stack, headers) -> None:
    async with httpx.AsyncClient(base_url=stack.url, headers=headers) as anonymous:
        for method, url in [
            ("GET", "/v1/tasks"),
            ("GET", f"/v1/tasks/{UNKNOWN_ID}"),
            ("POST", "/v1/tasks"),
            ("DELETE", f"/v1/tasks/{UNKNOWN_ID}"),
        ]:
            answer = await anonymous.request(method, url, json={"target": TARGET})
            assert answer.status_code == 401, (method, url)
            assert error_of(answer)["code"] == "unauthorized"


async def test_api_key_query_parameter_is_accepted(stack) -> None:
    async with httpx.AsyncClient(base_url=stack.url) as anonymous:
        answer = await anonymous.get(f"/v1/tasks?api_key={TOKENS['acme']}&limit=1")
    assert answer.status_code == 200
    assert "total" in answer.json()


async def test_ricloud_token_scheme_is_not_a_taskhook_credential(stack) -> None:
    headers = {"Authorization": f"Token {TOKENS['acme']}"}
    async with httpx.AsyncClient(base_url=stack.url, headers=headers) as client:
        assert (await client.get("/v1/tasks")).status_code == 401


@pytest.mark.parametrize("task_id", [UNKNOWN_ID, "task_123", "not-a-task", "task_" + "Z" * 32])
async def test_unknown_or_malformed_id_is_404(acme, task_id) -> None:
    for method in ("GET", "DELETE"):
        answer = await acme.request(method, f"/v1/tasks/{task_id}")
        assert answer.status_code == 404
        assert error_of(answer)["code"] == "not_found"


async def test_malformed_json_is_400(acme) -> None:
    answer = await acme.post(
        "/v1/tasks",
        content=b'{"target": "http://x", ',
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 400
    assert error_of(answer)["code"] == "invalid_json"


async def test_empty_body_is_400(acme) -> None:
    answer = await acme.post("/v1/tasks", content=b"")
    assert answer.status_code == 400
    assert error_of(answer)["details"][0]["field"] == "body"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "target"),
        ({"target": 42}, "target"),
        ({"target": "ftp://example.com/x"}, "target.url"),
        ({"target": "not a url"}, "target.url"),
        ({"target": {"url": TARGET, "method": "BREW"}}, "target.method"),
        ({"target": TARGET, "execute_after": "tomorrow"}, "execute_after"),
        ({"target": TARGET, "expires_after": "P1Y"}, "expires_after"),
        ({"target": TARGET, "timeout": -1}, "timeout"),
        ({"target": TARGET, "retry": {"max_attempts": 0}}, "retry.max_attempts"),
        ({"target": TARGET, "tags": ["it's"]}, "tags"),
        (
            {"target": TARGET, "notifications": {"url": TARGET, "events": ["task.exploded"]}},
            "notifications.events",
        ),
        ({"target": TARGET, "unexpected": 1}, "unexpected"),
    ],
)
async def test_invalid_field_is_400_naming_it(acme, body, field) -> None:
    answer = await acme.post("/v1/tasks", json=body)
    assert answer.status_code == 400, answer.text
    error = error_of(answer)
    fields = [d["field"] for d in error["details"]]
    assert any(f == field or f.startswith(field + ".") for f in fields), error


async def test_expires_before_execute_is_400_naming_both(acme) -> None:
    body = {"target": TARGET, "execute_after": "PT1H", "expires_after": "PT10M"}
    answer = await acme.post("/v1/tasks", json=body)
    assert answer.status_code == 400
    error = error_of(answer)
    assert "expires_after" in error["message"] and "execute_after" in error["message"]
    assert {d["field"] for d in error["details"]} == {"expires_after", "execute_after"}


async def test_expiry_in_the_past_is_400(acme) -> None:
    answer = await acme.post(
        "/v1/tasks", json={"target": TARGET, "expires_after": "2020-01-01T00:00:00Z"}
    )
    assert answer.status_code == 400


async def test_two_megabyte_payload_is_413(acme) -> None:
    answer = await acme.post(
        "/v1/tasks", json={"target": TARGET, "payload": {"blob": "x" * 2_000_000}}
    )
    assert answer.status_code == 413
    assert error_of(answer)["code"] == "payload_too_large"


async def test_payload_over_its_own_limit_is_413_naming_payload(acme) -> None:
    answer = await acme.post("/v1/tasks", json={"target": TARGET, "payload": "x" * 300_000})
    assert answer.status_code == 413
    assert error_of(answer)["details"][0]["field"] == "payload"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"target": TARGET, "tags": [f"t{i}" for i in range(21)]}, "tags"),
        ({"target": TARGET, "tags": ["x" * 65]}, "tags"),
        ({"target": TARGET, "notifications": [TARGET] * 11}, "notifications"),
        ({"target": "http://127.0.0.1/" + "a" * 3000}, "target.url"),
        (
            {"target": {"url": TARGET, "headers": {f"h{i}": "v" for i in range(40)}}},
            "target.headers",
        ),
        ({"target": TARGET, "execute_after": "P400D"}, "execute_after"),
        ({"target": TARGET, "timeout": 7200}, "timeout"),
        ({"target": TARGET, "retry": {"max_attempts": 51}}, "retry.max_attempts"),
    ],
)
async def test_limits_are_422_naming_the_field(acme, body, field) -> None:
    answer = await acme.post("/v1/tasks", json=body)
    assert answer.status_code == 422, answer.text
    assert error_of(answer)["details"][0]["field"] == field


@pytest.mark.parametrize(
    "query", ["status=done", "limit=-1", "limit=5000", "offset=x", "offset=20000", "tags=it's"]
)
async def test_bad_list_parameters_are_400(acme, query) -> None:
    answer = await acme.get(f"/v1/tasks?{query}")
    assert answer.status_code == 400
    assert error_of(answer)["details"]


async def test_private_targets_refused_when_not_allowed(servers: Servers) -> None:
    api = await servers.api(servers.settings("no-worker-public", allow_private=False))
    async with api.client() as client:
        for target in [
            "http://127.0.0.1:8080/x",
            "http://localhost/x",
            "http://10.1.2.3/",
            "http://169.254.169.254/latest",
            "http://[::1]/",
        ]:
            answer = await client.post("/v1/tasks", json={"target": target})
            assert answer.status_code == 422, target
            assert error_of(answer)["code"] == "private_target"
        hook = {"target": "https://example.com/x", "notifications": "http://192.168.0.1/hook"}
        answer = await client.post("/v1/tasks", json=hook)
        assert answer.status_code == 422
        assert error_of(answer)["details"][0]["field"] == "notifications.url"


async def test_error_bodies_are_json_whatever_the_request_said(acme) -> None:
    answer = await acme.post("/v1/tasks", content=b"[1,2", headers={"Content-Type": "text/plain"})
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("application/json")
    assert json.loads(answer.text)["error"]["code"] == "invalid_json"


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b'{"target": "http://x.example/", "timeout": NaN}', "timeout"),
        (b'{"target": "http://x.example/", "retry": {"initial_delay": Infinity}}', "retry"),
        (b'{"target": "http://x.example/", "payload": {"n": [1, NaN]}}', "payload"),
    ],
)
async def test_nan_and_infinity_are_400(acme, raw, field) -> None:
    answer = await acme.post("/v1/tasks", content=raw, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert error_of(answer)["details"][0]["field"].startswith(field)


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"target": TARGET, "execute_after": "P9999999D"}, 400, "execute_after"),
        ({"target": TARGET, "timeout": "P99999999999W"}, 400, "timeout"),
        ({"target": TARGET, "expires_after": "9999-12-31T23:59:59-05:00"}, 422, "expires_after"),
        ({"target": TARGET, "retry": {"initial_delay": 1e12}}, 422, "retry.initial_delay"),
        ({"target": TARGET, "retry": {"max_delay": 1e12}}, 422, "retry.max_delay"),
    ],
)
async def test_times_beyond_the_horizon_are_refused_not_crashed(acme, body, status, field) -> None:
    answer = await acme.post("/v1/tasks", json=body)
    assert answer.status_code == status, answer.text
    assert error_of(answer)["details"][0]["field"] == field


async def test_payload_times_attempts_and_events_over_the_history_budget_is_422(acme) -> None:
    hooks = [{"url": f"http://hooks.example/{i}"} for i in range(10)]
    body = {"target": TARGET, "payload": "x" * 200_000, "notifications": hooks}
    answer = await acme.post("/v1/tasks", json=body)
    assert answer.status_code == 422
    assert error_of(answer)["details"][0]["field"] == "payload"
    fewer = {
        **body,
        "notifications": hooks[:1],
        "retry": {"max_attempts": 3},
        "execute_after": "PT1H",
    }
    accepted = await acme.post("/v1/tasks", json=fewer)
    assert accepted.status_code == 201
    await acme.delete(f"/v1/tasks/{accepted.json()['id']}")


async def test_cancel_with_no_worker_is_503_and_changes_nothing(servers: Servers) -> None:
    api = await servers.api(servers.settings(f"idle-{uuid.uuid4().hex[:8]}"))
    async with api.client() as client:
        task = (await client.post("/v1/tasks", json={"target": TARGET})).json()
        answer = await client.delete(f"/v1/tasks/{task['id']}")
        assert answer.status_code == 503
        assert error_of(answer)["code"] == "unavailable"
        assert (await client.get(f"/v1/tasks/{task['id']}")).json()["status"] == "queued"
