"""A fleet of `tasklane worker` processes on one task queue: they share the work, a killed
worker's attempt is taken over by another, a SIGTERMed worker finishes its attempt first."""

from __future__ import annotations

import asyncio
import signal
import time
import uuid

import httpx
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from tasklane.config import Settings
from tests.api.test_taskhook_lifecycle import wait_status
from tests.conftest import Servers, eventually, free_port
from tests.receiver import Receiver, Reply

# A dead worker's attempt is noticed when its heartbeat stops (workflows/attempts.py); its
# workflow's next task may first wait out the dead worker's sticky queue (Settings).
TAKE_OVER_S = 10.0 + Settings().sticky_timeout_s


async def polling(ports: list[int]) -> bool:
    """Every worker has started polling (the SDK counts its pollers in its metrics)."""
    async with httpx.AsyncClient() as scraper:
        for port in ports:
            try:
                text = (await scraper.get(f"http://127.0.0.1:{port}/metrics")).text
            except httpx.TransportError:
                return False
            if "temporal_num_pollers{" not in text:
                return False
    return True


async def keep_busy(http: httpx.AsyncClient, target: str) -> None:
    while True:
        await http.post("/v1/tasks", json={"target": target})
        await asyncio.sleep(0.1)


async def attempt_workers(client: Client, task_id: str) -> list[str]:
    """The identity (pid@host) of the worker that started each attempt of the task."""
    history = await client.get_workflow_handle(task_id).fetch_history()
    scheduled = {
        e.event_id: e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    }
    return [
        e.activity_task_started_event_attributes.identity
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
        and scheduled[e.activity_task_started_event_attributes.scheduled_event_id] == "call_target"
    ]


async def worker_of_running_attempt(client: Client, task_id: str) -> int | None:
    """The pid of the worker running the task's attempt now, if one does."""
    description = await client.get_workflow_handle(task_id).describe()
    for pending in description.raw_description.pending_activities:
        if pending.activity_type.name == "call_target" and pending.last_worker_identity:
            return int(pending.last_worker_identity.split("@")[0])
    return None


async def test_two_workers_share_the_work_and_a_killed_workers_attempt_moves_over(
    servers: Servers, receiver: Receiver, path: str
) -> None:
    settings = servers.settings(f"fleet-{uuid.uuid4().hex[:8]}")
    ports = [free_port(), free_port()]
    workers = {
        p.pid: p
        for p in (
            servers.worker_process(settings, {"TASKLANE_WORKER_METRICS_PORT": str(port)})
            for port in ports
        )
    }
    api = await servers.api(settings)
    client = servers.temporal.client
    # Both poll before any work is sent, so both can take some.
    await eventually(lambda: polling(ports), timeout_s=60)
    async with api.client() as http:
        target = receiver.script(f"{path}/many", 200)
        answers = await asyncio.gather(
            *(http.post("/v1/tasks", json={"target": target}) for _ in range(200))
        )
        ids = [a.json()["id"] for a in answers]
        for task_id in ids:
            await wait_status(http, task_id, "completed", timeout_s=60)
        identities = await asyncio.gather(*(attempt_workers(client, t) for t in ids))
        pids = {int(i.split("@")[0]) for found in identities for i in found}
        assert pids == set(workers)  # both processes ran attempts
        assert len(receiver.at(f"{path}/many")) == 200

        slow = receiver.script(f"{path}/slow", Reply(200, delay_s=4))
        body = {
            "target": slow,
            "retry": {"max_attempts": 3, "backoff": "fixed", "initial_delay": 0},
        }
        task_id = (await http.post("/v1/tasks", json=body)).json()["id"]
        pid = await eventually(lambda: worker_of_running_attempt(client, task_id))
        await eventually(lambda: asyncio.sleep(0, receiver.at(f"{path}/slow")))
        # Busy workers, as in real use: a busy worker's workflow tasks go to its own (sticky)
        # queue, where a dead one's wait out the sticky timeout.
        busy = asyncio.create_task(keep_busy(http, receiver.script(f"{path}/busy", 200)))
        await asyncio.sleep(2)
        workers[pid].kill()
        workers[pid].wait()
        killed_at = time.monotonic()

        async def second_call() -> bool:
            return len(receiver.at(f"{path}/slow")) == 2

        await eventually(second_call, timeout_s=TAKE_OVER_S + 10)
        taken_over_s = time.monotonic() - killed_at
        busy.cancel()
        done = await wait_status(http, task_id, "completed", timeout_s=30)
    assert done["attempts"] == 2
    [survivor] = set(workers) - {pid}
    assert [int(i.split("@")[0]) for i in await attempt_workers(client, task_id)] == [
        pid,
        survivor,
    ]
    # Documented: the heartbeat timeout, at most the sticky timeout, then the retry delay (0
    # here); the kill came 2 s into the attempt, and a loaded machine gets some slack.
    assert taken_over_s <= TAKE_OVER_S + 3


async def test_sigterm_lets_the_attempt_finish_and_it_is_not_repeated(
    servers: Servers, receiver: Receiver, path: str
) -> None:
    settings = servers.settings(f"drain-{uuid.uuid4().hex[:8]}")
    first = servers.worker_process(settings)
    api = await servers.api(settings)
    client = servers.temporal.client
    async with api.client() as http:
        slow = receiver.script(path, Reply(200, delay_s=3))
        task_id = (await http.post("/v1/tasks", json={"target": slow})).json()["id"]
        assert await eventually(lambda: worker_of_running_attempt(client, task_id)) == first.pid
        await eventually(lambda: asyncio.sleep(0, receiver.at(path)))
        first.send_signal(signal.SIGTERM)
        # It takes no new work but finishes this attempt, then exits 0.
        exit_code = await asyncio.to_thread(first.wait, 30)
        assert exit_code == 0
        servers.worker_process(settings)  # to record the answer in the workflow
        done = await wait_status(http, task_id, "completed", "failed", timeout_s=30)
    assert done["status"] == "completed" and done["attempts"] == 1
    assert len(receiver.at(path)) == 1
    assert [int(i.split("@")[0]) for i in await attempt_workers(client, task_id)] == [first.pid]
