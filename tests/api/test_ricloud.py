"""The ricloud dialect on the real stack: tasks of registered types, their lists and results."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.conftest import TOKENS, Api, eventually

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
TASK_FIELDS = {
    "id",
    "resource",
    "organisation",
    "key",
    "user",
    "source",
    "session",
    "poll",
    "source_type",
    "type",
    "target",
    "state",
    "results",
    "error",
    "date_created",
    "date_started",
    "date_completed",
}
FINISHED = ("succeeded", "failed")


def result_payload(*items: tuple[str, str, str]) -> dict[str, Any]:
    """A SCRIPTED payload publishing (data, content_type, identifier) results."""
    return {
        "results": [
            {"data": data, "encoding": "utf-8", "content_type": kind, "identifier": name}
            for data, kind, name in items
        ]
    }


@pytest.fixture
async def ricloud(stack: Api) -> AsyncIterator[httpx.AsyncClient]:
    async with stack.client("acme", scheme="Token") as client:
        yield client


async def create(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    answer = await client.post("/tasks", json={"type": "SCRIPTED", **body})
    assert answer.status_code == 201, answer.text
    return answer.json()  # type: ignore[no-any-return]


async def finished(client: httpx.AsyncClient, task_id: str) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        task = (await client.get(f"/tasks/{task_id}")).json()
        return task if task["state"] in FINISHED else None

    return await eventually(check)  # type: ignore[no-any-return]


async def listed(client: httpx.AsyncClient, query: str, count: int) -> dict[str, Any]:
    """The list answer once visibility has caught up with `count` matching tasks."""

    async def check() -> dict[str, Any] | None:
        answer = await client.get(f"/tasks?{query}")
        assert answer.status_code == 200, answer.text
        page = answer.json()
        return page if page["total_count"] == count else None

    return await eventually(check)  # type: ignore[no-any-return]


async def test_task_goes_pending_processing_succeeded_with_its_results(ricloud) -> None:
    payload = {"sleep": 1.5, **result_payload(("a", "text/plain", "a.txt"), ("b", "text/csv", "b"))}
    task = await create(ricloud, payload=payload)
    assert task["state"] == "pending" and task["date_started"] is None
    seen = [task["state"]]

    async def check() -> dict[str, Any] | None:
        current = (await ricloud.get(f"/tasks/{task['id']}")).json()
        if current["state"] != seen[-1]:
            seen.append(current["state"])
        if current["state"] == "processing":
            assert current["date_started"] and current["date_completed"] is None
        return current if current["state"] in FINISHED else None

    done = await eventually(check)
    assert seen == ["pending", "processing", "succeeded"]
    assert TIME.match(done["date_started"]) and TIME.match(done["date_completed"])
    assert done["date_created"] <= done["date_started"] <= done["date_completed"]
    assert done["error"] is None
    results = done["results"]
    assert results["resource"] == "list" and results["total_count"] == 2
    assert results["url"] == f"/tasks/{task['id']}/results" and results["has_more"] is False
    assert [r["identifier"] for r in results["data"]] == ["a.txt", "b"]


async def test_task_resource_has_the_seed_fields(stack, ricloud) -> None:
    scope = {"source": "src-1", "session": "s-1", "poll": "p-1", "source_type": "icloud.account"}
    task = await create(ricloud, target="messages.sms", **scope)
    assert set(task) == TASK_FIELDS
    assert UUID.match(task["id"]) and task["resource"] == "task"
    assert task["organisation"] == "acme" and task["user"] == "acme user"
    key = stack.settings.tasklane.authenticate(TOKENS["acme"])
    assert task["key"] == key.key_id
    assert task["type"] == "SCRIPTED" and task["target"] == "messages.sms"
    assert {name: task[name] for name in scope} == scope
    assert TIME.match(task["date_created"])
    assert task["results"] == {
        "resource": "list",
        "data": [],
        "has_more": False,
        "total_count": 0,
        "url": f"/tasks/{task['id']}/results",
    }
    assert (await ricloud.get(f"/tasks/{task['id']}")).json()["id"] == task["id"]


async def test_ricloud_task_is_the_taskhook_task_of_the_same_id(stack, ricloud) -> None:
    task = await create(ricloud)
    hex_id = task["id"].replace("-", "")
    async with stack.client("acme") as taskhook:
        answer = await taskhook.get(f"/v1/tasks/task_{hex_id}")
    assert answer.status_code == 200 and answer.json()["type"] == "SCRIPTED"
    assert (await ricloud.get(f"/tasks/task_{hex_id}")).json()["id"] == task["id"]


async def test_failed_task_carries_its_error_code(ricloud) -> None:
    task = await create(ricloud, payload={"fail": "final"})
    done = await finished(ricloud, task["id"])
    assert done["state"] == "failed" and done["error"] == "ERR_HANDLER"
    assert done["date_completed"] is not None


async def test_cancelled_task_reads_failed_with_error_cancelled(stack, ricloud) -> None:
    async with stack.client("acme") as taskhook:
        later = {"target": "http://127.0.0.1:9/never", "execute_after": "PT1H"}
        created = (await taskhook.post("/v1/tasks", json=later)).json()
        assert (await taskhook.delete(f"/v1/tasks/{created['id']}")).status_code == 200
    task = (await ricloud.get(f"/tasks/{created['id']}")).json()
    assert task["state"] == "failed" and task["error"] == "cancelled"
    assert task["type"] == "http" and task["target"] is None


async def test_key_without_a_user_may_name_the_user(stack) -> None:
    async with stack.client("acme_service", scheme="Token") as service:
        task = await create(service, user="Carol")
    assert task["user"] == "Carol"


async def test_key_with_a_user_creates_tasks_as_that_user(stack) -> None:
    async with stack.client("bob", scheme="Token") as bob:
        task = await create(bob, user="Bob Marley", client_account_id=56)
        assert task["user"] == "Bob Marley"
        assert (await create(bob))["user"] == "Bob Marley"


async def test_state_and_date_created_filters_return_exactly_the_matching_tasks(ricloud) -> None:
    session = uuid.uuid4().hex
    early = [await create(ricloud, session=session, payload=p) for p in ({}, {"fail": "final"})]
    since = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    late_ok = [await create(ricloud, session=session) for _ in range(2)]
    late_failed = await create(ricloud, session=session, payload={"fail": "final"})
    for task in [*early, *late_ok, late_failed]:
        await finished(ricloud, task["id"])

    query = f"session={session}&state=succeeded&date_created[gte]={since}"
    page = await listed(ricloud, query, 2)
    assert [t["id"] for t in page["data"]] == [t["id"] for t in reversed(late_ok)]
    assert all(t["state"] == "succeeded" for t in page["data"])
    failed = await listed(ricloud, f"session={session}&state=failed", 2)
    assert {t["id"] for t in failed["data"]} == {early[1]["id"], late_failed["id"]}


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def test_date_created_operators_bound_the_list(ricloud) -> None:
    session = uuid.uuid4().hex
    first = await create(ricloud, session=session)
    t1 = now_iso()
    second = await create(ricloud, session=session)
    t2 = now_iso()
    third = await create(ricloud, session=session)
    a, b, c = first["id"], second["id"], third["id"]
    cases = {
        f"date_created[gt]={t1}": [c, b],
        f"date_created[gte]={t1}": [c, b],
        f"date_created[lt]={t2}": [b, a],
        f"date_created[lte]={t2}": [b, a],
        f"date_created[gt]={t1}&date_created[lt]={t2}": [b],
        f"date_created={t1}": [],
        # Bounds equal to a stored value: equality matches it, inclusive bounds keep it.
        f"date_created={second['date_created']}": [b],
        f"date_created[lte]={second['date_created']}": [b, a],
        f"date_created[gte]={second['date_created']}": [c, b],
        f"date_created[lt]={second['date_created']}": [a],
        f"date_created[gt]={second['date_created']}": [c],
    }
    await listed(ricloud, f"session={session}", 3)
    for query, expected in cases.items():
        page = (await ricloud.get(f"/tasks?session={session}&{query}")).json()
        assert [t["id"] for t in page["data"]] == expected, query
        assert page["total_count"] == len(expected), query


async def test_date_started_and_completed_filters(ricloud) -> None:
    session = uuid.uuid4().hex
    done = await finished(ricloud, (await create(ricloud, session=session))["id"])
    running = await create(ricloud, session=session, payload={"sleep": 3})
    page = await listed(ricloud, f"session={session}&date_started[gte]={done['date_created']}", 2)
    assert {t["id"] for t in page["data"]} == {done["id"], running["id"]}
    page = await listed(ricloud, f"session={session}&date_completed[lt]={now_iso()}", 1)
    assert [t["id"] for t in page["data"]] == [done["id"]]
    page = await listed(ricloud, f"session={session}&date_completed={done['date_completed']}", 1)
    assert [t["id"] for t in page["data"]] == [done["id"]]
    exact_start = f"session={session}&date_started[lte]={done['date_started']}"
    assert [t["id"] for t in (await listed(ricloud, exact_start, 1))["data"]] == [done["id"]]


@pytest.mark.parametrize("name", ["source", "poll", "source_type", "user", "type"])
async def test_exact_filters_select_their_tasks(stack, ricloud, name) -> None:
    session = uuid.uuid4().hex
    values = {"source": "src-a", "poll": "poll-a", "source_type": "mocks.mock"}
    async with stack.client("acme_service", scheme="Token") as service:
        wanted = await create(service, session=session, user="Dana", **values)
        other_type = "SHORT_RETENTION"
        await create(service, type=other_type, session=session, user="Eve")
    query_value = {"user": "Dana", "type": "SCRIPTED"}.get(name) or values[name]
    page = await listed(ricloud, f"session={session}&{name}={query_value}", 1)
    assert [t["id"] for t in page["data"]] == [wanted["id"]]


async def test_key_filter_selects_the_tasks_of_one_key(stack, ricloud) -> None:
    session = uuid.uuid4().hex
    mine = await create(ricloud, session=session)
    async with stack.client("alice", scheme="Token") as alice:
        await create(alice, session=session)
    page = await listed(ricloud, f"session={session}&key={mine['key']}", 1)
    assert [t["id"] for t in page["data"]] == [mine["id"]]


@pytest.fixture(scope="module")
async def twenty_five(stack: Api) -> tuple[str, list[str]]:
    """25 tasks of one session, oldest first."""
    session = uuid.uuid4().hex
    async with stack.client("acme", scheme="Token") as client:
        ids = [(await create(client, session=session))["id"] for _ in range(25)]
        await listed(client, f"session={session}", 25)
    return session, ids


async def test_after_id_pages_through_every_task_newest_first(ricloud, twenty_five) -> None:
    session, ids = twenty_five
    seen: list[str] = []
    query = f"/tasks?session={session}&limit=10"
    page = (await ricloud.get(query)).json()
    while True:
        assert page["total_count"] == 25 and page["url"] == "/tasks"
        seen += [t["id"] for t in page["data"]]
        if not page["has_more"]:
            break
        page = (await ricloud.get(f"{query}&after_id={seen[-1]}")).json()
    assert seen == list(reversed(ids))


async def test_before_id_walks_back_towards_the_newest(ricloud, twenty_five) -> None:
    session, ids = twenty_five
    query = f"/tasks?session={session}&limit=10"
    page = (await ricloud.get(f"{query}&before_id={ids[4]}")).json()
    assert [t["id"] for t in page["data"]] == list(reversed(ids[5:15]))
    assert page["has_more"] is True
    page = (await ricloud.get(f"{query}&before_id={ids[14]}")).json()
    assert [t["id"] for t in page["data"]] == list(reversed(ids[15:]))
    assert page["has_more"] is False


async def test_limit_defaults_to_ten(ricloud, twenty_five) -> None:
    session, ids = twenty_five
    page = (await ricloud.get(f"/tasks?session={session}")).json()
    assert [t["id"] for t in page["data"]] == list(reversed(ids[15:]))
    assert page["has_more"] is True


async def test_blocked_task_is_suspended_until_its_blocker_succeeds(ricloud) -> None:
    blocker = await create(ricloud, payload={"sleep": 1.5})
    dependent = await create(ricloud, blocked_by=[blocker["id"]])
    assert dependent["state"] == "suspended"
    assert (await ricloud.get(f"/tasks/{dependent['id']}")).json()["state"] == "suspended"
    done = await finished(ricloud, dependent["id"])
    assert done["state"] == "succeeded" and done["error"] is None
    blocker_done = (await ricloud.get(f"/tasks/{blocker['id']}")).json()
    assert blocker_done["date_completed"] <= done["date_started"]


async def test_blocker_that_fails_fails_its_dependent(ricloud) -> None:
    blocker = await create(ricloud, payload={"sleep": 0.5, "fail": "final"})
    dependent = await create(ricloud, blocked_by=[blocker["id"]])
    assert dependent["state"] == "suspended"
    done = await finished(ricloud, dependent["id"])
    assert done["state"] == "failed" and done["error"] == "blocker-failed"
    assert done["date_started"] is None


@pytest.fixture(scope="module")
async def published(stack: Api) -> dict[str, Any]:
    """A finished task with two results: a CSV and a JSON document."""
    async with stack.client("acme", scheme="Token") as client:
        payload = result_payload(("a,b\n1,2\n", "text/csv", "table.csv"))
        payload["results"].append({"data": {"x": 1}, "identifier": "doc"})
        task = await create(client, payload=payload)
        return await finished(client, task["id"])


async def test_task_results_list_object(ricloud, published) -> None:
    answer = (await ricloud.get(f"/tasks/{published['id']}/results")).json()
    assert answer == published["results"]
    first = answer["data"][0]
    assert set(first) == {
        "id",
        "resource",
        "task",
        "identifier",
        "content_type",
        "checksum",
        "size",
        "state",
        "url",
        "date_created",
        "date_expires",
    }
    assert first["resource"] == "result" and first["task"] == published["id"]
    assert first["content_type"] == "text/csv" and first["size"] == 8
    assert first["checksum"] == hashlib.md5(b"a,b\n1,2\n").hexdigest()
    assert first["url"] == f"/results/{first['id']}/data"
    assert TIME.match(first["date_created"]) and TIME.match(first["date_expires"])


async def test_result_is_retrieved_by_id(ricloud, published) -> None:
    for result in published["results"]["data"]:
        answer = await ricloud.get(f"/results/{result['id']}")
        assert answer.status_code == 200
        assert answer.json()["identifier"] == result["identifier"]


async def test_result_data_has_the_stored_bytes_and_content_type(ricloud, published) -> None:
    csv, document = published["results"]["data"]
    answer = await ricloud.get(csv["url"])
    assert answer.status_code == 200 and answer.content == b"a,b\n1,2\n"
    assert answer.headers["content-type"] == "text/csv"
    answer = await ricloud.get(document["url"])
    assert answer.json() == {"x": 1} and answer.headers["content-type"] == "application/json"


async def test_results_list_filters_by_task(ricloud, published) -> None:
    page = (await ricloud.get(f"/results?task={published['id']}")).json()
    assert page["resource"] == "list" and page["url"] == "/results"
    assert page["data"] == published["results"]["data"] and page["total_count"] == 2
    hex_id = published["id"].replace("-", "")
    assert (await ricloud.get(f"/results?task=task_{hex_id}")).json()["total_count"] == 2


async def test_results_list_limit_sets_has_more(ricloud, published) -> None:
    page = (await ricloud.get(f"/results?task={published['id']}&limit=1")).json()
    assert len(page["data"]) == 1 and page["has_more"] is True and page["total_count"] == 2


async def test_results_list_is_newest_task_first(ricloud, published) -> None:
    newer = await create(ricloud, payload=result_payload(("n", "text/plain", "newer")))
    await finished(ricloud, newer["id"])

    async def check() -> list[str] | None:
        page = (await ricloud.get("/results?limit=1000")).json()
        tasks = [r["task"] for r in page["data"]]
        return tasks if newer["id"] in tasks else None

    tasks = await eventually(check)
    assert tasks.index(newer["id"]) < tasks.index(published["id"])


async def test_ack_consumes_a_result_and_the_state_filter_sees_it(ricloud) -> None:
    task = await create(ricloud, payload=result_payload(("x", "text/plain", "x")))
    [result] = (await finished(ricloud, task["id"]))["results"]["data"]
    assert result["state"] == "available"
    acked = await ricloud.post(f"/results/{result['id']}/ack")
    assert acked.status_code == 200 and acked.json()["state"] == "consumed"
    again = await ricloud.post(f"/results/{result['id']}/ack")
    assert again.status_code == 200 and again.json()["state"] == "consumed"

    async def check() -> list[str] | None:
        query = f"/results?task={task['id']}&state=consumed"
        page = (await ricloud.get(query)).json()
        return [r["id"] for r in page["data"]] or None

    assert await eventually(check) == [result["id"]]
    available = (await ricloud.get(f"/results?task={task['id']}&state=available")).json()
    assert available["data"] == [] and available["total_count"] == 0


async def test_results_expire_after_retention_then_answer_410(ricloud) -> None:
    task = await create(
        ricloud, type="SHORT_RETENTION", payload=result_payload(("y", "text/plain", "y"))
    )
    [result] = (await finished(ricloud, task["id"]))["results"]["data"]
    assert (await ricloud.get(result["url"])).status_code == 200

    async def expired() -> dict[str, Any] | None:
        current = (await ricloud.get(f"/results/{result['id']}")).json()
        return current if current["state"] == "expired" else None

    await eventually(expired, timeout_s=10)
    data = await ricloud.get(result["url"])
    ack = await ricloud.post(f"/results/{result['id']}/ack")
    for answer in (data, ack):
        assert answer.status_code == 410
        assert answer.json()["error"] == "gone"
    expired_list = (await ricloud.get(f"/results?task={task['id']}&state=expired")).json()
    assert [r["id"] for r in expired_list["data"]] == [result["id"]]
    assert (await ricloud.get(f"/tasks/{task['id']}")).json()["state"] == "succeeded"
