"""Group tasks end to end: a task with `target: "group:<name>"` fans out to one child task
per URL of the group, and reports the children's ends as `group_info` and `group.*` events."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.conftest import Api, eventually
from tests.receiver import Receiver

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
