"""System tasks `GET/POST /api/v2/system-tasks` against the real stack.

Each test uses a client account of its own (the `acme` key may see every account), so no
test sees another's tasks; `bob` is limited to accounts 56 and 57.
"""

from __future__ import annotations

import random
import re
import time
import uuid
from typing import Any

import httpx
import pytest

from tasklane.client import TasklaneClient
from tests.conftest import TOKENS, Api, Servers, eventually, free_port

URL = "/api/v2/system-tasks"
UTC_SECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")


def new_account() -> int:
    return random.randrange(10**9)


async def start(
    client: httpx.AsyncClient, account: int, meta: dict[str, Any], task_type: str = "SCRIPTED"
) -> dict[str, Any]:
    """Start a task through the API; its 201 body."""
    response = await client.post(
        URL, json={"client_account_id": account, "task_type": task_type, "meta": meta}
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def listed(client: httpx.AsyncClient, account: int) -> list[dict[str, Any]]:
    response = await client.get(URL, params={"client_account_id": account})
    assert response.status_code == 200, response.text
    return response.json()["data"]  # type: ignore[no-any-return]


def assert_error(response: httpx.Response, status: int, field: str | None = None) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["message"]
    if field is not None:
        assert field in error["message"] or error["details"][0]["field"] == field


async def test_a_started_task_is_listed_while_it_runs_and_gone_when_it_completes(
    acme: httpx.AsyncClient,
) -> None:
    account = new_account()
    meta = {"income_year": 2024, "business_partner_id": 56, "sleep": 1.5, "meta": {"count": 5}}

    started = await start(acme, account, meta)
    begun = time.monotonic()
    running = await eventually(lambda: listed(acme, account), timeout_s=5)

    assert time.monotonic() - begun < 1.5  # listed while the handler still sleeps
    assert running == [
        {"task_type": "SCRIPTED", "started_at": running[0]["started_at"], "meta": meta}
    ]
    assert UTC_SECONDS.match(running[0]["started_at"])
    assert started["id"].startswith("task_") and started["status"] in ("queued", "processing")
    assert {k: started[k] for k in ("task_type", "client_account_id", "meta")} == {
        "task_type": "SCRIPTED",
        "client_account_id": account,
        "meta": meta,
    }

    async def gone() -> bool:
        return await listed(acme, account) == []

    await eventually(gone, timeout_s=10)


async def test_an_account_without_running_tasks_lists_no_data(acme: httpx.AsyncClient) -> None:
    response = await acme.get(URL, params={"client_account_id": new_account()})
    assert response.status_code == 200
    assert response.json() == {"data": []}


async def test_a_failed_task_leaves_the_list(acme: httpx.AsyncClient) -> None:
    account = new_account()
    await start(acme, account, {"fail": "final", "sleep": 0.5})
    await eventually(lambda: listed(acme, account), timeout_s=5)

    async def gone() -> bool:
        return await listed(acme, account) == []

    await eventually(gone, timeout_s=10)


# --- GET errors -------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["", "?client_account_id=", "?other=1"])
async def test_get_without_client_account_id_is_400_naming_it(
    acme: httpx.AsyncClient, query: str
) -> None:
    assert_error(await acme.get(URL + query), 400, "client_account_id")


@pytest.mark.parametrize("value", ["abc", "1.5", "1.0", "-3", "1_000", "9" * 30])
async def test_get_with_a_non_integer_client_account_id_is_400_naming_it(
    acme: httpx.AsyncClient, value: str
) -> None:
    response = await acme.get(URL, params={"client_account_id": value})
    assert_error(response, 400, "client_account_id")
    assert "integer" in response.json()["error"]["message"]


async def test_get_without_a_key_is_401(stack: Api) -> None:
    async with stack.client(None) as anonymous:
        response = await anonymous.get(URL, params={"client_account_id": 56})
    assert_error(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("header", ["Bearer tok_wrong", f"Token {TOKENS['acme']}"])
async def test_get_with_a_wrong_key_or_scheme_is_401(stack: Api, header: str) -> None:
    async with httpx.AsyncClient(base_url=stack.url, headers={"Authorization": header}) as c:
        assert_error(await c.get(URL, params={"client_account_id": 56}), 401)


async def test_get_for_an_account_outside_the_keys_accounts_is_403(stack: Api) -> None:
    async with stack.client("bob") as bob:
        allowed = await bob.get(URL, params={"client_account_id": 57})
        refused = await bob.get(URL, params={"client_account_id": 58})
    assert allowed.status_code == 200 and "data" in allowed.json()
    assert_error(refused, 403, "client_account_id")
    assert "58" in refused.json()["error"]["message"]


# --- POST errors ------------------------------------------------------------------------


async def test_post_of_an_unknown_task_type_is_400_naming_it(acme: httpx.AsyncClient) -> None:
    body = {"client_account_id": new_account(), "task_type": "NO_SUCH_TYPE", "meta": {}}
    response = await acme.post(URL, json=body)
    assert_error(response, 400, "task_type")
    assert "SCRIPTED" in response.json()["error"]["message"]  # lists the known types


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"task_type": "SCRIPTED"}, "client_account_id"),
        ({"client_account_id": "56", "task_type": "SCRIPTED"}, "client_account_id"),
        ({"client_account_id": 5.5, "task_type": "SCRIPTED"}, "client_account_id"),
        ({"client_account_id": 56}, "task_type"),
        ({"client_account_id": 56, "task_type": "SCRIPTED", "meta": [1]}, "meta"),
        ({"client_account_id": 56, "task_type": "SCRIPTED", "metta": {}}, "metta"),
    ],
)
async def test_post_with_a_bad_body_is_400_naming_the_field(
    acme: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    assert_error(await acme.post(URL, json=body), 400, field)


async def test_post_of_invalid_json_is_400(acme: httpx.AsyncClient) -> None:
    response = await acme.post(
        URL, content=b"{not json", headers={"content-type": "application/json"}
    )
    assert_error(response, 400)


async def test_post_for_an_account_outside_the_keys_accounts_is_403(stack: Api) -> None:
    body = {"client_account_id": 58, "task_type": "SCRIPTED", "meta": {}}
    async with stack.client("bob") as bob:
        response = await bob.post(URL, json=body)
    assert_error(response, 403, "client_account_id")


async def test_post_without_a_key_is_401(stack: Api) -> None:
    body = {"client_account_id": new_account(), "task_type": "SCRIPTED", "meta": {}}
    async with stack.client(None) as anonymous:
        assert_error(await anonymous.post(URL, json=body), 401)


async def test_post_starts_the_task_for_the_keys_user_and_account(
    stack: Api, tasklane_client: TasklaneClient
) -> None:
    async with stack.client("bob") as bob:
        started = await start(bob, 57, {"marker": uuid.uuid4().hex})
    task = await tasklane_client.get(started["id"])
    assert (task.spec.organisation, task.spec.user) == ("acme", "Bob Marley")
    assert (task.spec.type, task.spec.scope.client_account) == ("SCRIPTED", 57)
    assert task.spec.payload == started["meta"]


# --- Redis down -------------------------------------------------------------------------


async def test_get_answers_503_while_redis_is_unreachable(stack: Api, servers: Servers) -> None:
    dead = stack.settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    api = await servers.api(dead)
    async with api.client("acme") as client:
        response = await client.get(URL, params={"client_account_id": new_account()})
        started = await client.post(
            URL, json={"client_account_id": new_account(), "task_type": "SCRIPTED", "meta": {}}
        )
    assert_error(response, 503)
    error = response.json()["error"]
    assert error["code"] == "view_unavailable" and "Redis" in error["message"]
    assert started.status_code == 201  # starting a task does not need the view


async def test_a_task_due_now_is_listed_as_soon_as_the_post_answers(
    acme: httpx.AsyncClient,
) -> None:
    account = new_account()
    started = await start(acme, account, {"sleep": 2, "income_year": 2024})
    [entry] = await listed(acme, account)  # no waiting: the API listed it before answering
    assert entry["task_type"] == "SCRIPTED" and entry["meta"]["income_year"] == 2024
    assert started["status"] == "queued"


async def test_a_per_task_ttl_is_accepted_and_a_bad_one_is_400_naming_it(
    acme: httpx.AsyncClient,
) -> None:
    body = {"client_account_id": new_account(), "task_type": "SCRIPTED", "ttl": "PT45M"}
    assert (await acme.post(URL, json=body)).status_code == 201
    for bad in ("soon", "PT0S", "P5000D"):
        answer = await acme.post(URL, json={**body, "ttl": bad})
        assert_error(answer, 400, "ttl")
