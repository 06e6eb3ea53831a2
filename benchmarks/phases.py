"""The measured phases: throughput (bare and Tasklane), paced request latency (including the
System tasks list with tasks running), lateness."""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from temporalio.client import Client

from benchmarks.bare import WORKFLOW_NAME, BareInput
from benchmarks.rawhttp import RawGet
from benchmarks.receiver import Receiver

SYSTEM_TASKS = "/api/v2/system-tasks"
# How long a phase waits for the previous one's workflows to close.
IDLE_TIMEOUT_S = 120.0


class PhaseError(RuntimeError):
    """A phase could not complete (refused requests, timeouts)."""


@dataclass
class Throughput:
    """N tasks from the first submit to the receiver holding all N."""

    tasks: int
    wall_s: float  # first submit → Nth distinct arrival at the receiver
    submit_s: float  # first submit → last submit acknowledged

    @property
    def per_s(self) -> float:
        return self.tasks / self.wall_s


@dataclass
class Paced:
    """Latencies (ms) of an open-loop run, and the requests that failed."""

    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def progress(message: str) -> None:
    # Progress on stderr, so stdout carries only the table.
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


async def wait_idle(client: Client, query: str, timeout_s: float) -> None:
    """Wait until no workflow matching `query` runs, so the next phase starts on a quiet system."""
    deadline = time.monotonic() + timeout_s
    while (await client.count_workflows(f"{query} AND ExecutionStatus = 'Running'")).count:
        if time.monotonic() > deadline:
            raise PhaseError(f"workflows ({query}) still running after {timeout_s:g} s")
        await asyncio.sleep(0.5)


def add_throughput(total: Throughput | None, part: Throughput) -> Throughput:
    if total is None:
        return part
    return Throughput(
        total.tasks + part.tasks, total.wall_s + part.wall_s, total.submit_s + part.submit_s
    )


async def _bounded(
    count: int, concurrency: int, one: Callable[[int, int], Awaitable[None]], timeout_s: float
) -> None:
    """`concurrency` senders share the indexes 0..count-1: one(sender, i), within `timeout_s`."""
    indexes = iter(range(count))

    async def sender(number: int) -> None:
        # A shared iterator: each index goes to exactly one sender, the next free one.
        for i in indexes:
            await one(number, i)

    try:
        # asyncio.timeout, not wait_for: wait_for leaves a cancelled gather's exception
        # unretrieved on Ctrl-C, and asyncio then prints it.
        async with asyncio.timeout(timeout_s):
            await asyncio.gather(*(sender(k) for k in range(min(concurrency, count))))
    except TimeoutError:
        raise PhaseError(f"{count} submissions did not finish within {timeout_s:.0f} s") from None


async def bare_throughput(
    client: Client,
    receiver: Receiver,
    task_queue: str,
    phase: str,
    n: int,
    concurrency: int,
    timeout_s: float,
) -> Throughput:
    """Start N BareWorkflows, `concurrency` starts in flight, and wait for N arrivals."""
    run = uuid.uuid4().hex[:8]

    async def start(sender: int, i: int) -> None:
        await client.start_workflow(
            WORKFLOW_NAME,
            BareInput(receiver.url, {"phase": phase, "i": i}),
            id=f"{phase}-{run}-{i}",
            task_queue=task_queue,
        )

    t0 = time.monotonic()
    await _bounded(n, concurrency, start, timeout_s)
    submitted = time.monotonic()
    await receiver.wait_for(phase, n, timeout_s - (submitted - t0))
    return Throughput(n, receiver.last_arrival(phase) - t0, submitted - t0)


async def tasklane_throughput(
    apis: list[httpx.AsyncClient], receiver: Receiver, phase: str, n: int, timeout_s: float
) -> tuple[Throughput, list[str]]:
    """POST N tasks, one sender per client in `apis`, and wait for N arrivals; also the ids."""
    ids: list[str] = []

    async def submit(sender: int, i: int) -> None:
        ids.append(await submit_task(apis[sender], receiver.url, {"phase": phase, "i": i}))

    t0 = time.monotonic()
    await _bounded(n, len(apis), submit, timeout_s)
    submitted = time.monotonic()
    await receiver.wait_for(phase, n, timeout_s - (submitted - t0))
    return Throughput(n, receiver.last_arrival(phase) - t0, submitted - t0), ids


async def submit_task(
    api: httpx.AsyncClient, target: str, payload: Any, execute_after: str | None = None
) -> str:
    """POST /v1/tasks; the new task's id, or PhaseError on anything but 201."""
    body: dict[str, Any] = {"target": target, "payload": payload}
    if execute_after is not None:
        body["execute_after"] = execute_after
    response = await api.post("/v1/tasks", json=body)
    if response.status_code != 201:
        raise PhaseError(f"POST /v1/tasks answered {response.status_code}: {response.text[:300]}")
    return str(response.json()["id"])


async def paced(
    count: int, rate: float, send: Callable[[int], Awaitable[object]], timeout_s: float
) -> Paced:
    """Open loop: request i leaves at t0 + i/rate whatever earlier ones are doing.

    Latency counts from the planned moment, not the actual send, so a stalled client or
    server cannot hide its queueing delay (no coordinated omission).
    """
    # time.perf_counter, not loop.time(): uvloop's clock only ticks in whole milliseconds.
    t0 = time.perf_counter() + 0.05
    result = Paced()

    async def one(i: int) -> None:
        planned = t0 + i / rate
        await asyncio.sleep(max(0.0, planned - time.perf_counter()))
        try:
            await send(i)
        except Exception as e:  # noqa: BLE001 - counted and reported, not fatal per request
            result.errors.append(f"{type(e).__name__}: {e}")
            return
        result.latencies_ms.append((time.perf_counter() - planned) * 1000)

    try:
        async with asyncio.timeout(timeout_s):
            await asyncio.gather(*(one(i) for i in range(count)))
    except TimeoutError:
        raise PhaseError(f"{count} paced requests not done within {timeout_s:.0f} s") from None
    return result


async def post_latency(
    api: httpx.AsyncClient,
    receiver: Receiver,
    phase: str,
    count: int,
    rate: float,
    timeout_s: float,
) -> Paced:
    """POST /v1/tasks at `rate`; then wait until the tasks ran, so the next phase runs quiet."""
    result = await paced(
        count, rate, lambda i: submit_task(api, receiver.url, {"phase": phase, "i": i}), timeout_s
    )
    await receiver.wait_for(phase, len(result.latencies_ms), timeout_s)
    return result


async def get_latency(
    api: httpx.AsyncClient, ids: list[str], count: int, rate: float, timeout_s: float
) -> Paced:
    """GET /v1/tasks/{id} at `rate`, cycling over `ids`."""

    async def get(i: int) -> None:
        response = await api.get(f"/v1/tasks/{ids[i % len(ids)]}")
        if response.status_code != 200:
            raise PhaseError(f"GET answered {response.status_code}: {response.text[:200]}")

    return await paced(count, rate, get, timeout_s)


async def lateness(
    api: httpx.AsyncClient,
    receiver: Receiver,
    phase: str,
    count: int,
    lead_s: float,
    spread_s: float,
    timeout_s: float,
) -> Paced:
    """Tasks due `lead_s` after their submission, submitted over `spread_s`; lateness in ms."""

    async def submit(i: int) -> None:
        requested = time.time() + lead_s
        when = datetime.fromtimestamp(requested, UTC).isoformat()
        payload = {"phase": phase, "i": i, "requested_at": requested}
        await submit_task(api, receiver.url, payload, execute_after=when)

    submitted = await paced(count, count / spread_s, submit, timeout_s)
    if submitted.errors:
        raise PhaseError(f"{len(submitted.errors)} lateness submits failed: {submitted.errors[0]}")
    await receiver.wait_for(phase, count, timeout_s)
    late = [
        (a.wall - float(a.body["requested_at"])) * 1000 for a in receiver.arrivals[phase].values()
    ]
    return Paced(latencies_ms=late)


async def start_system_task(
    api: httpx.AsyncClient, account: int, task_type: str, meta: dict[str, Any]
) -> str:
    """POST /api/v2/system-tasks; the new task's id, or PhaseError on anything but 201."""
    body = {"client_account_id": account, "task_type": task_type, "meta": meta}
    response = await api.post(SYSTEM_TASKS, json=body)
    if response.status_code != 201:
        raise PhaseError(
            f"POST {SYSTEM_TASKS} answered {response.status_code}: {response.text[:300]}"
        )
    return str(response.json()["id"])


async def list_system_tasks(api: httpx.AsyncClient, account: int) -> list[Any]:
    """GET /api/v2/system-tasks?client_account_id=N; its `data`, or PhaseError if not 200."""
    response = await api.get(SYSTEM_TASKS, params={"client_account_id": account})
    if response.status_code != 200:
        raise PhaseError(
            f"GET {SYSTEM_TASKS} answered {response.status_code}: {response.text[:200]}"
        )
    data = response.json()["data"]
    if not isinstance(data, list):
        raise PhaseError(f"GET {SYSTEM_TASKS}: data is {type(data).__name__}, not a list")
    return data


async def _until(what: str, timeout_s: float, done: Callable[[], Awaitable[bool]]) -> None:
    deadline = time.monotonic() + timeout_s
    while not await done():
        if time.monotonic() > deadline:
            raise PhaseError(f"{what} not within {timeout_s:g} s")
        await asyncio.sleep(0.2)


async def system_tasks_latency(
    api: httpx.AsyncClient,
    receiver: Receiver,
    task_type: str,
    phase: str,
    account: int,
    running: int,
    count: int,
    rate: float,
    timeout_s: float,
) -> Paced:
    """GET /api/v2/system-tasks of an account with `running` tasks running, at `rate`.

    The tasks are of `task_type`, whose attempt is a call the receiver holds: once the list
    shows them all and the receiver holds every attempt, the view stays still while the
    GETs run. An answer other than 200 with exactly `running` entries counts as an error.
    Afterwards the held calls are answered, and the phase waits until the list is empty.
    """
    for i in range(running):
        await start_system_task(api, account, task_type, {"phase": phase, "i": i})
    try:

        async def all_listed() -> bool:
            return len(await list_system_tasks(api, account)) >= running

        await _until(f"{running} tasks in the list", timeout_s, all_listed)
        await receiver.wait_for(phase, running, timeout_s)

        raw = RawGet.like(api, SYSTEM_TASKS, {"client_account_id": str(account)})

        async def get(i: int) -> None:
            status, body = await raw.get()
            if status != 200:
                raise PhaseError(f"GET {SYSTEM_TASKS} answered {status}: {body[:200]!r}")
            listed = len(json.loads(body)["data"])
            if listed != running:
                raise PhaseError(f"GET {SYSTEM_TASKS} listed {listed} tasks, not {running}")

        try:
            result = await paced(count, rate, get, timeout_s)
        finally:
            raw.close()
    finally:
        # Answer the held attempts even on failure, so the tasks end with the phase.
        receiver.release_held()

    async def none_listed() -> bool:
        return not await list_system_tasks(api, account)

    await _until("an empty list after the tasks ended", timeout_s, none_listed)
    return result
