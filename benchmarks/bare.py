"""The bare-Temporal floor: a workflow running one activity that POSTs the payload to a URL,
and, for group tasks, a workflow starting one such child workflow per URL.

Run as a worker process: `python -m benchmarks.bare --address HOST:PORT --task-queue Q`.
It does what a Tasklane task does at its core (one activity, one HTTP call through a shared
connection pool) and nothing else, so the gap to Tasklane is Tasklane's own cost.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker

with workflow.unsafe.imports_passed_through():
    import httpx

WORKFLOW_NAME = "BareWorkflow"
FANOUT_WORKFLOW_NAME = "BareFanoutWorkflow"
ACTIVITY_NAME = "bare_post"
READY_LINE = "bare worker ready"
# The same worker knobs as Tasklane's defaults (tasklane.config.Settings), for a fair floor.
MAX_CONCURRENT_ACTIVITIES = 200
MAX_CONCURRENT_WORKFLOW_TASKS = 100


@dataclass
class BareInput:
    """Where to POST and what."""

    url: str
    payload: Any


class Poster:
    """The worker's shared HTTP connection pool, sized like Tasklane's TargetCaller."""

    def __init__(self) -> None:
        self.http = httpx.AsyncClient(
            limits=httpx.Limits(max_connections=1000, max_keepalive_connections=200)
        )

    @activity.defn(name=ACTIVITY_NAME)
    async def post(self, task: BareInput) -> int:
        """POST the payload as JSON; any non-2xx answer fails the attempt."""
        response = await self.http.post(task.url, json=task.payload, timeout=30.0)
        response.raise_for_status()
        return response.status_code


@workflow.defn(name=WORKFLOW_NAME)
class BareWorkflow:
    """One activity, default retry policy, nothing else."""

    @workflow.run
    async def run(self, task: BareInput) -> int:
        return await workflow.execute_activity(
            ACTIVITY_NAME, task, start_to_close_timeout=timedelta(seconds=30)
        )


@dataclass
class BareFanoutInput:
    """The same payload to every URL."""

    urls: list[str]
    payload: Any


@workflow.defn(name=FANOUT_WORKFLOW_NAME)
class BareFanoutWorkflow:
    """One BareWorkflow child per URL, all started at once, then awaited: a naive fan-out."""

    @workflow.run
    async def run(self, task: BareFanoutInput) -> int:
        prefix = workflow.info().workflow_id
        children = await asyncio.gather(
            *(
                workflow.start_child_workflow(
                    WORKFLOW_NAME, BareInput(url, task.payload), id=f"{prefix}-{i}"
                )
                for i, url in enumerate(task.urls)
            )
        )
        await asyncio.gather(*children)
        return len(children)


async def serve(address: str, task_queue: str) -> None:
    """Run the worker until SIGTERM or SIGINT."""
    client = await Client.connect(address)
    poster = Poster()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    worker = Worker(
        client,
        task_queue=task_queue,
        workflows=[BareWorkflow, BareFanoutWorkflow],
        activities=[poster.post],
        max_concurrent_activities=MAX_CONCURRENT_ACTIVITIES,
        max_concurrent_workflow_tasks=MAX_CONCURRENT_WORKFLOW_TASKS,
        graceful_shutdown_timeout=timedelta(seconds=5),
    )
    async with worker:
        # The benchmark waits for this line in the log before it starts workflows.
        print(READY_LINE, flush=True)
        await stop.wait()
    await poster.http.aclose()


def worker_argv(address: str, task_queue: str) -> list[str]:
    """The command that runs this worker."""
    return [
        sys.executable,
        "-m",
        "benchmarks.bare",
        "--address",
        address,
        "--task-queue",
        task_queue,
    ]


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments and serve."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bare", description=__doc__)
    parser.add_argument("--address", required=True, help="Temporal frontend, HOST:PORT")
    parser.add_argument("--task-queue", required=True)
    args = parser.parse_args(argv)
    asyncio.run(serve(args.address, args.task_queue))
    # Skip interpreter teardown: the SDK's Rust threads can abort it with "PyGILState_Release"
    # (temporalio/sdk-python#300) after a clean stop, which only adds noise to the log.
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    # Re-import under the package name so the sandbox loads the workflow from
    # `benchmarks.bare`, not from `__main__`.
    from benchmarks import bare

    bare.main()
