"""Record TaskWorkflow and UrlGroupRegistry histories for the replay test, from a running
`tasklane dev`.

Run it after a deliberate, patched change to TaskWorkflow, to add histories of the new code
beside the old ones. Only cases without a saved history are recorded: old ones stand for
workflows still running and are never replaced. The typed cases need the test handlers in
the dev config (from the repository root):

    tasklane dev --port 18000 --temporal-port 17233 --data-dir /tmp/rec   # once, then stop it
    cat tests/workflows/histories/types.toml >> /tmp/rec/config.toml
    tasklane dev --port 18000 --temporal-port 17233 --data-dir /tmp/rec   # elsewhere
    python tests/workflows/histories/record.py /tmp/rec/dev-token
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import httpx
from temporalio.client import Client

from tasklane.client import TasklaneClient
from tasklane.config import TasklaneConfig
from tasklane.url_groups import registry_id

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from tests.receiver import Receiver, Reply  # noqa: E402

API, TEMPORAL = "http://127.0.0.1:18000", "127.0.0.1:17233"
REGISTRY = registry_id("tasklane", "dev")
CONFIG = Path("/tmp/rec/config.toml")


def cases(r: Receiver) -> dict[str, dict[str, object]]:
    hooks = r.script("/hooks", 200)
    fast = {"max_attempts": 3, "backoff": "fixed", "initial_delay": 0.5}
    return {
        "completed_after_retry": {
            "target": r.script("/a", 500, 200),
            "notifications": hooks,
            "retry": fast,
        },
        "failed_400": {
            "target": r.script("/b", 400),
            "notifications": {"url": hooks, "events": ["task.failed"]},
        },
        "cancelled_scheduled": {
            "target": r.script("/c", 200),
            "execute_after": "PT1H",
            "notifications": hooks,
        },
        "abandoned": {
            "target": r.script("/d", 500),
            "expires_after": "PT3S",
            "retry": {"max_attempts": 5, "backoff": "fixed", "initial_delay": 5},
        },
        "delayed_unique": {
            "target": r.script("/e", 200),
            "execute_after": "PT1S",
            "unique_id": f"rec-{time.time()}",
        },
    }


def new(name: str) -> bool:
    return not (HERE / f"{name}.json").exists()


async def blocked_cases(r: Receiver, api: httpx.AsyncClient) -> dict[str, str]:
    """A dependent that runs, one whose blocker fails, one whose blocker had closed."""

    async def submit(body: dict[str, object]) -> str:
        answer = await api.post("/v1/tasks", json=body)
        answer.raise_for_status()
        return str(answer.json()["id"])

    slow = await submit({"target": r.script("/slow", Reply(200, delay_s=1.0))})
    bad = await submit({"target": r.script("/bad", Reply(400, delay_s=1.0))})
    done = await submit({"target": r.script("/done", 200)})
    ids = {
        "blocked_completed": await submit({"target": r.script("/f", 200), "blocked_by": [slow]}),
        "blocker_failed": await submit({"target": r.script("/g", 200), "blocked_by": [bad]}),
    }
    await asyncio.sleep(3)  # `done` has closed by now: its outcome is read, not signalled
    ids["blocker_closed"] = await submit({"target": r.script("/h", 200), "blocked_by": [done]})
    return ids


async def group_cases(r: Receiver, api: httpx.AsyncClient) -> dict[str, str]:
    """A group task with one child failing, a group task cancelled while its children retry,
    one child of the first, and the registry that holds the groups (changed, then read)."""
    urls = [r.script("/g1", 200), r.script("/g2", 200), r.script("/g3", 400)]
    group = (await api.post("/v1/url-groups", json={"name": "rec", "urls": urls})).json()
    await api.patch(f"/v1/url-groups/{group['id']}", json={"description": "recorded"})
    slow = {"max_attempts": 3, "backoff": "fixed", "initial_delay": 60}
    waiting = {"name": "rec-waiting", "urls": [r.script("/g4", 500), r.script("/g5", 500)]}
    await api.post("/v1/url-groups", json=waiting)
    hooks = r.script("/hooks", 200)
    # The failing child notifies `task.failed` (so it tells its group task by signal too);
    # the others tell it by closing.
    notify = [hooks, {"url": hooks, "events": ["task.failed"]}]
    body = {"target": "group:rec", "notifications": notify, "payload": {"x": 1}}
    partial = (await api.post("/v1/tasks", json=body)).json()["id"]
    body = {"target": "group:rec-waiting", "retry": slow, "notifications": hooks}
    cancelled = (await api.post("/v1/tasks", json=body)).json()["id"]
    await asyncio.sleep(3)
    (await api.delete(f"/v1/tasks/{cancelled}")).raise_for_status()
    children = (await api.get("/v1/tasks", params={"parent_id": partial})).json()["tasks"]
    failed_child = next(c["id"] for c in children if c["target"]["url"] == urls[2])
    quiet_child = next(c["id"] for c in children if c["target"]["url"] == urls[0])
    return {
        "group_partial": partial,
        "group_cancelled": cancelled,
        "group_child": failed_child,
        "group_child_quiet": quiet_child,
    }


async def handler_case(client: Client) -> str:
    """A Python handler publishing results, one acked, kept for the (short) retention."""
    tasks = TasklaneClient(client, config=TasklaneConfig.load(CONFIG), task_queue="tasklane")
    payload = {"meta": {"count": 2}, "results": [{"data": {"a": 1}}, {"data": {"b": 2}}]}
    task_id = await tasks.start("SCRIPTED", organisation="dev", payload=payload)
    for _ in range(100):
        if (await tasks.get(task_id)).state.status.finished:
            break
        await asyncio.sleep(0.2)
    first = (await tasks.results(task_id))[0]
    await tasks.ack(task_id, first.info.id)
    return task_id


async def system_task_case(client: Client) -> str:
    """A task of a client account: listed while it runs, announced as it starts and ends."""
    tasks = TasklaneClient(client, config=TasklaneConfig.load(CONFIG), task_queue="tasklane")
    payload = {"sleep": 0.5, "meta": {"count": 5}}
    return await tasks.start("SCRIPTED", organisation="dev", client_account=56, payload=payload)


async def main(token: str) -> None:
    receiver = Receiver().start()
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=API, headers=headers) as api:
        ids = {}
        for name, body in cases(receiver).items():
            if not new(name):
                continue
            answer = await api.post("/v1/tasks", json=body)
            answer.raise_for_status()
            ids[name] = answer.json()["id"]
        await asyncio.sleep(1)
        if "cancelled_scheduled" in ids:
            (await api.delete(f"/v1/tasks/{ids['cancelled_scheduled']}")).raise_for_status()
        client = await Client.connect(TEMPORAL)
        if new("blocked_completed"):
            ids.update(await blocked_cases(receiver, api))
        if new("handler_results"):
            ids["handler_results"] = await handler_case(client)
        if new("system_task"):
            ids["system_task"] = await system_task_case(client)
        if new("group_partial") or new("group_child_quiet"):
            ids.update({k: v for k, v in (await group_cases(receiver, api)).items() if new(k)})
        for name, task_id in ids.items():
            handle = client.get_workflow_handle(task_id)
            await handle.result()
            history = await handle.fetch_history()
            (HERE / f"{name}.json").write_text(history.to_json())  # noqa: ASYNC240
            print(name, (await api.get(f"/v1/tasks/{task_id}")).json()["status"])
        if new("url_group_registry"):
            # The registry never closes: its history so far is what a worker would replay.
            history = await client.get_workflow_handle(REGISTRY).fetch_history()
            (HERE / "url_group_registry.json").write_text(history.to_json())  # noqa: ASYNC240
    receiver.stop()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]).read_text().strip()))
