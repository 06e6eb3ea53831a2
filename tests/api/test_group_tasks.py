"""Group tasks end to end: a task with `target: "group:<name>"` fans out to one child task
per URL of the group, and reports the children's ends as `group_info` and `group.*` events."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from tests.conftest import eventually
from tests.receiver import Receiver, Reply

FAST_RETRY = {"max_attempts": 2, "backoff": "fixed", "initial_delay": 0.2}


async def make_group(client: httpx.AsyncClient, urls: list[str], name: str | None = None) -> dict:
    name = name or f"g-{uuid.uuid4().hex[:10]}"
    response = await client.post("/v1/url-groups", json={"name": name, "urls": urls})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def finished(client: httpx.AsyncClient, task_id: str) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        task = (await client.get(f"/v1/tasks/{task_id}")).json()
        done = task["status"] in ("completed", "failed", "cancelled")
        return task if done and task["group_info"]["remaining"] == 0 else None

    return await eventually(check, timeout_s=60)  # type: ignore[no-any-return]


def events(receiver: Receiver, path: str) -> list[dict[str, Any]]:
    return [r.json() for r in receiver.at(path)]


async def test_one_failing_receiver_of_five(
    acme: httpx.AsyncClient, receiver: Receiver, path: str
) -> None:
    urls = [receiver.script(f"{path}/ok{i}", 200) for i in range(4)]
    urls.append(receiver.script(f"{path}/broken", 500))
    group = await make_group(acme, urls)
    notify = receiver.script(f"{path}/events", 200)
    response = await acme.post(
        "/v1/tasks",
        json={
            "target": f"group:{group['name']}",
            "payload": {"invoice": 7},
            "retry": FAST_RETRY,
            "notifications": notify,
        },
    )
    assert response.status_code == 201, response.text
    task = await finished(acme, response.json()["id"])

    assert task["status"] == "completed"  # partial: at least one child completed
    assert task["group_info"] == {"total_tasks": 5, "completed": 4, "failed": 1, "remaining": 0}
    for i in range(4):
        hits = receiver.at(f"{path}/ok{i}")
        assert [h.json() for h in hits] == [{"invoice": 7}]
    assert len(receiver.at(f"{path}/broken")) == 2

    async def all_events() -> list[dict[str, Any]] | None:
        sent = events(receiver, f"{path}/events")
        return sent if any(e["event"] == "task.completed" for e in sent) else None

    sent = await eventually(all_events)
    names = [e["event"] for e in sent]
    assert names.count("group.first_failed") == 1
    assert names.count("group.partial_completion") == 1
    assert names.count("group.all_completed") == 1
    assert "group.all_failed" not in names
    # The parent's endpoint asked for every event: it hears the parent, not each child.
    assert all(e["task_id"] == task["id"] for e in sent)
    last = next(e for e in sent if e["event"] == "group.all_completed")
    assert last["group_info"] == {"total_tasks": 5, "completed": 4, "failed": 1, "remaining": 0}
    first_failed = next(e for e in sent if e["event"] == "group.first_failed")
    broken_child = await acme.get(f"/v1/tasks/{first_failed['child_task_id']}")
    assert broken_child.json()["target"]["url"] == urls[4]
    assert broken_child.json()["status"] == "failed"
    assert broken_child.json()["attempts"] == 2
    assert broken_child.json()["parent_id"] == task["id"]
    order = [n for n in names if n.startswith("group.")]
    assert order == ["group.first_failed", "group.partial_completion", "group.all_completed"]
    # From the fan-out on, every event counts the whole group.
    processing = next(e for e in sent if e["event"] == "task.processing")
    assert processing["group_info"] == {
        "total_tasks": 5,
        "completed": 0,
        "failed": 0,
        "remaining": 5,
    }
    queued = next(e for e in sent if e["event"] == "task.queued")
    assert "group_info" not in queued  # before the group is read


SLOW_RETRY = {"max_attempts": 3, "backoff": "fixed", "initial_delay": 60}


async def children_of(client: httpx.AsyncClient, task_id: str, count: int) -> list[dict]:
    async def listed() -> list[dict] | None:
        page = (await client.get("/v1/tasks", params={"parent_id": task_id})).json()
        # Count and page are separate visibility reads: wait until both show every child.
        return page["tasks"] if page["total"] == len(page["tasks"]) == count else None

    return await eventually(listed)  # type: ignore[no-any-return]


async def statuses(client: httpx.AsyncClient, ids: list[str]) -> list[str]:
    return [(await client.get(f"/v1/tasks/{i}")).json()["status"] for i in ids]


async def test_delete_of_the_group_cancels_children_between_attempts_and_names_the_rest(
    acme: httpx.AsyncClient, receiver: Receiver, path: str
) -> None:
    urls = [receiver.script(f"{path}/down{i}", 500) for i in range(2)]
    urls.append(receiver.script(f"{path}/slow", Reply(200, delay_s=6)))
    group = await make_group(acme, urls)
    notify = receiver.script(f"{path}/events", 200)
    body = {"target": f"group:{group['name']}", "retry": SLOW_RETRY, "notifications": notify}
    parent = (await acme.post("/v1/tasks", json=body)).json()["id"]
    children = {c["target"]["url"]: c["id"] for c in await children_of(acme, parent, 3)}
    down = [children[u] for u in urls[:2]]

    async def settled() -> bool:
        return await statuses(acme, down) == ["retrying"] * 2 and bool(receiver.at(f"{path}/slow"))

    await eventually(settled)
    answer = await acme.delete(f"/v1/tasks/{parent}")

    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "cancelled"
    assert sorted(answer.json()["children"]["cancelled"]) == sorted(down)
    [refused] = answer.json()["children"]["not_cancelled"]
    assert refused["id"] == children[urls[2]] and "mid-attempt" in refused["reason"]
    assert await statuses(acme, down) == ["cancelled"] * 2
    # The slow child runs to its end; the group task, cancelled, still counts it.
    task = await finished(acme, parent)
    assert task["status"] == "cancelled"
    assert task["group_info"] == {"total_tasks": 3, "completed": 1, "failed": 2, "remaining": 0}
    assert len(receiver.at(f"{path}/down0")) == 1  # no attempt after the cancel

    async def all_sent() -> list[str] | None:
        names = [e["event"] for e in events(receiver, f"{path}/events")]
        return names if "group.all_completed" in names else None

    names = await eventually(all_sent)
    assert names.count("task.cancelled") == 1
    # One for the group task, standing for the children it cancelled.
    sent = events(receiver, f"{path}/events")
    [cancelled] = [e for e in sent if e["event"] == "group.task_cancelled"]
    assert "child_task_id" not in cancelled and cancelled["task_id"] == parent
    assert "group.first_failed" not in names  # cancelled is not failed
    assert names[-2:] == ["group.partial_completion", "group.all_completed"]


async def test_delete_of_one_child_tells_its_group(
    acme: httpx.AsyncClient, receiver: Receiver, path: str
) -> None:
    urls = [receiver.script(f"{path}/ok", 200), receiver.script(f"{path}/down", 500)]
    group = await make_group(acme, urls)
    notify = receiver.script(f"{path}/events", 200)
    body = {"target": f"group:{group['name']}", "retry": SLOW_RETRY, "notifications": notify}
    parent = (await acme.post("/v1/tasks", json=body)).json()["id"]
    children = {c["target"]["url"]: c["id"] for c in await children_of(acme, parent, 2)}

    async def retrying() -> bool:
        return await statuses(acme, [children[urls[1]]]) == ["retrying"]

    await eventually(retrying)
    answer = await acme.delete(f"/v1/tasks/{children[urls[1]]}")
    assert answer.json() == {"id": children[urls[1]], "status": "cancelled"}

    task = await finished(acme, parent)
    assert task["status"] == "completed"
    assert task["group_info"] == {"total_tasks": 2, "completed": 1, "failed": 1, "remaining": 0}

    async def all_sent() -> list[dict] | None:
        sent = events(receiver, f"{path}/events")
        return sent if any(e["event"] == "task.completed" for e in sent) else None

    sent = await eventually(all_sent)
    [cancelled] = [e for e in sent if e["event"] == "group.task_cancelled"]
    assert cancelled["child_task_id"] == children[urls[1]]
    assert cancelled["task_id"] == parent


async def test_every_child_failing_fails_the_group(
    acme: httpx.AsyncClient, temporal: WorkflowEnvironment, receiver: Receiver, path: str
) -> None:
    urls = [receiver.script(f"{path}/gone{i}", 404) for i in range(3)]
    group = await make_group(acme, urls)
    notify = {"url": receiver.script(f"{path}/events", 200), "events": ["group.all_failed"]}
    body = {"target": f"group:{group['name']}", "notifications": notify}
    parent = (await acme.post("/v1/tasks", json=body)).json()["id"]

    task = await finished(acme, parent)
    assert task["status"] == "failed"
    assert task["error"]["code"] == "group_all_failed"
    assert task["group_info"] == {"total_tasks": 3, "completed": 0, "failed": 3, "remaining": 0}

    async def closed() -> bool:
        description = await temporal.client.get_workflow_handle(parent).describe()
        return description.status != WorkflowExecutionStatus.RUNNING

    await eventually(closed)  # every notification is out before the workflow closes
    assert [e["event"] for e in events(receiver, f"{path}/events")] == ["group.all_failed"]


async def test_children_notify_only_endpoints_that_name_task_events(
    acme: httpx.AsyncClient, receiver: Receiver, path: str
) -> None:
    urls = [receiver.script(f"{path}/a", 200), receiver.script(f"{path}/b", 200)]
    group = await make_group(acme, urls)
    every = receiver.script(f"{path}/every", 200)
    named = {"url": receiver.script(f"{path}/named", 200), "events": ["task.completed"]}
    body = {"target": f"group:{group['name']}", "notifications": [every, named]}
    parent = (await acme.post("/v1/tasks", json=body)).json()["id"]
    children = {c["id"] for c in await children_of(acme, parent, 2)}
    await finished(acme, parent)

    async def named_got_three() -> list[dict] | None:
        sent = events(receiver, f"{path}/named")
        return sent if len(sent) == 3 else None

    sent = await eventually(named_got_three)
    assert {e["task_id"] for e in sent} == {parent, *children}
    assert {e["event"] for e in sent} == {"task.completed"}
    every_sent = await eventually(
        lambda: asyncio.sleep(
            0, [e for e in events(receiver, f"{path}/every") if e["event"] == "task.completed"]
        )
    )
    assert {e["task_id"] for e in events(receiver, f"{path}/every")} == {parent}
    assert every_sent[0]["group_info"]["completed"] == 2


async def test_a_hundred_urls_each_run_as_a_child_the_web_ui_links(
    acme: httpx.AsyncClient,
    temporal: WorkflowEnvironment,
    receiver: Receiver,
    path: str,
) -> None:
    urls = [receiver.script(f"{path}/{i}", 200) for i in range(100)]
    group = await make_group(acme, urls)
    # 100 starts of 2 copies of 40 kB would overflow one 4 MB answer to the server: the
    # children start in batches.
    payload = {"batch": 1, "blob": "x" * 40_000}
    body = {"target": f"group:{group['name']}", "payload": payload}
    parent = (await acme.post("/v1/tasks", json=body)).json()["id"]

    task = await finished(acme, parent)
    assert task["status"] == "completed"
    assert task["group_info"] == {"total_tasks": 100, "completed": 100, "failed": 0, "remaining": 0}
    for i in range(100):
        assert [r.json() for r in receiver.at(f"{path}/{i}")] == [payload]
    children = await children_of(acme, parent, 100)
    assert {c["status"] for c in children} == {"completed"}
    # What the Web UI shows: the children are Temporal child workflows of the group task.
    client = temporal.client
    linked = await client.count_workflows(f"ParentWorkflowId = '{parent}'")
    assert linked.count == 100
    description = await client.get_workflow_handle(children[0]["id"]).describe()
    assert description.parent_id == parent


async def test_a_child_terminated_by_an_operator_still_counts(
    acme: httpx.AsyncClient, temporal: WorkflowEnvironment, receiver: Receiver, path: str
) -> None:
    urls = [receiver.script(f"{path}/ok", 200), receiver.script(f"{path}/down", 500)]
    group = await make_group(acme, urls)
    body = {"target": f"group:{group['name']}", "retry": SLOW_RETRY}
    parent = (await acme.post("/v1/tasks", json=body)).json()["id"]
    children = {c["target"]["url"]: c["id"] for c in await children_of(acme, parent, 2)}

    async def retrying() -> bool:
        return await statuses(acme, [children[urls[1]]]) == ["retrying"]

    await eventually(retrying)
    # No workflow code runs on terminate: the child cannot say how it ended; its close does.
    await temporal.client.get_workflow_handle(children[urls[1]]).terminate("operator")

    task = await finished(acme, parent)
    assert task["status"] == "completed"
    assert task["group_info"] == {"total_tasks": 2, "completed": 1, "failed": 1, "remaining": 0}
