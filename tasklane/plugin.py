"""TasklanePlugin: the Tasklane workflows and activities, for any Temporal worker.

A team that already runs Temporal adds Tasklane to its own worker with one line, and its own
task types (Python handlers) beside the built-in HTTP one:

    Worker(client, task_queue="tasklane",
           plugins=[TasklanePlugin(config, task_types=[TaskType("REPORT", handler=report)])])
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import redis.asyncio as aioredis
from temporalio.client import Client
from temporalio.plugin import SimplePlugin
from temporalio.worker import Worker

from activities.group_tasks import cancel_group_children, resolve_url_group
from activities.http_target import TargetCaller
from activities.notifications import NotificationSender
from activities.pusher_events import PusherRelay
from activities.python_handlers import HandlerRunner
from activities.system_tasks import SystemTaskPublisher
from activities.task_reads import read_task_outcomes
from tasklane.config import TasklaneConfig
from tasklane.reconcile import reconcile_forever
from tasklane.running_view import EventBus, RunningView
from tasklane.task_types import TaskType
from workflows.task import TaskWorkflow
from workflows.url_group_registry import UrlGroupRegistry


class TasklanePlugin(SimplePlugin):
    def __init__(
        self,
        config: TasklaneConfig | None = None,
        task_types: list[TaskType] | None = None,
        redis_url: str | None = None,
        reconcile_every_s: float = 30.0,
    ) -> None:
        """`redis_url`: where System tasks' running view and events go (none: not kept);
        the worker rebuilds that view from Temporal at start and every `reconcile_every_s`."""
        config = config or TasklaneConfig()
        # Types declared in code win over the config file's on a name clash.
        self.task_types = config.types.with_types(task_types or [])
        # Short timeouts: a Redis that hangs must not hold a task's attempt for long.
        self._redis = (
            aioredis.from_url(redis_url, socket_connect_timeout=1, socket_timeout=2)
            if redis_url
            else None
        )
        view = RunningView(self._redis) if self._redis else None
        self._view, self._reconcile_every_s = view, reconcile_every_s
        self._client: Client | None = None
        self._caller = TargetCaller(allow_private=config.allow_private_targets, view=view)
        self._sender = NotificationSender(
            secrets=config.signing.secrets, allow_private=config.allow_private_targets
        )
        self._runner = HandlerRunner(self.task_types.handlers(), view=view)
        relay = PusherRelay(config.pusher) if config.pusher else None
        self._publisher = SystemTaskPublisher(
            view, EventBus(self._redis) if self._redis else None, relay
        )
        super().__init__(
            "tasklane",
            workflows=[TaskWorkflow, UrlGroupRegistry],
            activities=[
                self._caller.call_target,
                self._sender.deliver_notification,
                self._runner.run_handler,
                read_task_outcomes,
                resolve_url_group,
                cancel_group_children,
                self._publisher.announce_running,
                self._publisher.announce_ended,
            ],
            run_context=self._connection_pools,
        )

    async def run_worker(self, worker: Worker, next: Callable[[Worker], Awaitable[None]]) -> None:
        self._client = worker.client  # for the reconciliation, started in the run context
        await super().run_worker(worker, next)

    @asynccontextmanager
    async def _connection_pools(self) -> AsyncIterator[None]:
        reconciling = None
        if self._view is not None and self._client is not None:
            reconciling = asyncio.create_task(
                reconcile_forever(self._client, self._view, self._reconcile_every_s)
            )
        try:
            yield
        finally:
            if reconciling is not None:
                reconciling.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reconciling
            await self._caller.aclose()
            await self._sender.aclose()
            if self._redis is not None:
                await self._redis.aclose()
