"""`tasklane worker`: one worker process on the Tasklane task queue."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from datetime import timedelta

from temporalio.worker import UnsandboxedWorkflowRunner, Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from tasklane import logs, tracing
from tasklane.config import Settings
from tasklane.plugin import TasklanePlugin
from tasklane.temporal_client import connect, ensure_search_attributes, process_runtime

log = logging.getLogger("tasklane.worker")


def build_worker(client, settings: Settings) -> Worker:  # type: ignore[no-untyped-def]
    return Worker(
        client,
        task_queue=settings.task_queue,
        plugins=[
            TasklanePlugin(
                settings.tasklane,
                redis_url=settings.redis_url,
                reconcile_every_s=settings.reconcile_every_s,
            )
        ],
        max_concurrent_activities=settings.max_concurrent_activities,
        max_concurrent_workflow_tasks=settings.max_concurrent_workflow_tasks,
        graceful_shutdown_timeout=timedelta(seconds=settings.graceful_shutdown_s),
        # A dead worker's workflow tasks wait this long on its sticky queue before any
        # worker takes them: part of the take-over time of its attempts (README).
        sticky_queue_schedule_to_start_timeout=timedelta(seconds=settings.sticky_timeout_s),
        workflow_runner=workflow_runner(settings),
    )


def workflow_runner(settings: Settings) -> WorkflowRunner:
    """The sandbox rebuilds a module environment for every workflow run: measured, it cost
    more worker CPU than the whole task otherwise (docs/decisions.md, Workers). Production
    workers skip it; the test suite and the replay test run every workflow inside it, so a
    non-deterministic call in workflow code still fails CI."""
    if settings.workflow_sandbox:
        return SandboxedWorkflowRunner()
    return UnsandboxedWorkflowRunner()


def metrics_address(settings: Settings) -> str | None:
    """Where the SDK's metrics, and the `tasklane_tasks_finished` counter the workflows
    emit, are served (http://host:port/metrics); None when no port is set."""
    if settings.worker_metrics_port is None:
        return None
    return f"{settings.worker_metrics_host}:{settings.worker_metrics_port}"


async def run_worker(settings: Settings) -> None:
    client = await connect(settings, runtime=process_runtime(metrics_address(settings)))
    await ensure_search_attributes(client)
    worker = build_worker(client, settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info("worker polling task queue %s on %s", settings.task_queue, settings.temporal_address)
    async with worker:
        await stop.wait()
        log.info("shutting down: finishing in-flight attempts, taking no new work")
    log.info("worker stopped")


def main() -> None:
    settings = Settings()
    logs.configure(settings.log_format)
    tracing.start(settings, "worker")
    asyncio.run(run_worker(settings))
    tracing.stop()  # flush: exit_now skips atexit
    exit_now()


def exit_now() -> None:
    """Exit 0 without interpreter teardown, once the worker has stopped cleanly: the SDK's
    core threads can abort the process while Python finalizes (temporalio/sdk-python#300,
    "PyGILState_Release ... finalizing"), turning a clean stop into SIGABRT."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
