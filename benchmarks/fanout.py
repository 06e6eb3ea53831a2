"""Figure 7: a group task fanning out to N URLs, against a bare workflow starting N child
workflows, in alternating (ABBA) rounds; each measured from the submit to the Nth call."""

from __future__ import annotations

import time
import uuid

import httpx
from temporalio.client import Client

from benchmarks.bare import FANOUT_WORKFLOW_NAME, READY_LINE, BareFanoutInput, worker_argv
from benchmarks.phases import (
    IDLE_TIMEOUT_S,
    PhaseError,
    Throughput,
    add_throughput,
    progress,
    submit_task,
    wait_idle,
)
from benchmarks.receiver import Receiver
from benchmarks.stack import Stack


async def interleaved(
    stack: Stack,
    receiver: Receiver,
    api: httpx.AsyncClient,
    n: int,
    rounds: int,
    timeout_s: float,
) -> dict[str, Throughput]:
    """One warm-up each, then `rounds` alternating rounds; the sum of the measured ones."""
    assert stack.client is not None
    client = stack.client
    queue = f"bare-fanout-{uuid.uuid4().hex[:8]}"
    worker = stack.spawn("bare-fanout-worker", worker_argv(stack.temporal_address, queue))
    urls = [receiver.url_for(i) for i in range(n)]
    group = f"bench-{uuid.uuid4().hex[:8]}"
    made = await api.post("/v1/url-groups", json={"name": group, "urls": urls})
    if made.status_code != 201:
        raise PhaseError(f"POST /v1/url-groups answered {made.status_code}: {made.text[:200]}")
    idle = {"bare": f"TaskQueue = '{queue}'", "tasklane": "WorkflowType = 'TaskWorkflow'"}
    totals: dict[str, Throughput | None] = {"bare": None, "tasklane": None}
    try:
        await stack.wait_log("bare-fanout-worker", READY_LINE)
        for r in range(-1, rounds):
            order = ("bare", "tasklane") if r % 2 == 0 else ("tasklane", "bare")
            for side in order:
                phase = f"fanout-{side}-{r}"
                if side == "bare":
                    part = await bare(client, receiver, queue, phase, urls, timeout_s)
                else:
                    part = await tasklane(api, receiver, phase, group, n, timeout_s)
                if r >= 0:
                    totals[side] = add_throughput(totals[side], part)
                    progress(f"    round {r + 1}/{rounds} {side}: {part.wall_s:.2f} s")
                await wait_idle(client, idle[side], IDLE_TIMEOUT_S)
    finally:
        stack.stop(worker)
    return {side: total for side, total in totals.items() if total is not None}


async def bare(
    client: Client,
    receiver: Receiver,
    task_queue: str,
    phase: str,
    urls: list[str],
    timeout_s: float,
) -> Throughput:
    """Start one BareFanoutWorkflow over `urls` and wait until every URL was called."""
    t0 = time.monotonic()
    await client.start_workflow(
        FANOUT_WORKFLOW_NAME,
        BareFanoutInput(urls, {"phase": phase}),
        id=f"{phase}-{uuid.uuid4().hex[:8]}",
        task_queue=task_queue,
    )
    submitted = time.monotonic()
    await receiver.wait_for(phase, len(urls), timeout_s)
    return Throughput(len(urls), receiver.last_arrival(phase) - t0, submitted - t0)


async def tasklane(
    api: httpx.AsyncClient, receiver: Receiver, phase: str, group: str, n: int, timeout_s: float
) -> Throughput:
    """POST one task to `group:<group>` (n URLs) and wait until every URL was called."""
    t0 = time.monotonic()
    await submit_task(api, f"group:{group}", {"phase": phase})
    submitted = time.monotonic()
    await receiver.wait_for(phase, n, timeout_s)
    return Throughput(n, receiver.last_arrival(phase) - t0, submitted - t0)
