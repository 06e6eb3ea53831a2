"""A team's own worker, as a team that already runs Temporal would write it: Tasklane added
with one plugin, next to a Python handler of the team's own.

    python tests/team_worker.py <temporal address> <task queue>

Runs until SIGTERM or SIGINT, then stops gracefully (exit status 0).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from tasklane.config import TasklaneConfig
from tasklane.handlers import TaskContext
from tasklane.plugin import TasklanePlugin
from tasklane.task_types import TaskType
from worker.main import exit_now

TEAM_REPORT = "TEAM_REPORT"


async def team_report(ctx: TaskContext) -> dict[str, Any]:
    """Report progress, hold a moment (so the progress can be seen), publish the report."""
    ctx.heartbeat({"progress": 50})
    await asyncio.sleep(float((ctx.payload or {}).get("hold_s", 1.0)))
    await ctx.publish_result(
        f"report for {ctx.user}".encode(), content_type="text/plain", identifier="report.txt"
    )
    # The pid shows which process ran the handler.
    return {"count": 3, "pid": os.getpid()}


async def main(address: str, task_queue: str) -> None:
    client = await Client.connect(address)
    report = TaskType(TEAM_REPORT, handler=team_report, task_queue=task_queue)
    worker = Worker(
        client,
        task_queue=task_queue,
        plugins=[TasklanePlugin(TasklaneConfig(), task_types=[report])],
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with worker:
        print(f"polling {task_queue}", flush=True)
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
    exit_now()  # as `tasklane worker` does, for the SDK's exit-time abort
