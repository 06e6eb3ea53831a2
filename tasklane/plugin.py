"""TasklanePlugin: the Tasklane workflows and activities, for any Temporal worker.

A team that already runs Temporal adds Tasklane to its own worker with one line:

    Worker(client, task_queue="tasklane", plugins=[TasklanePlugin(config)])
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from temporalio.plugin import SimplePlugin

from activities.http_target import TargetCaller
from activities.notifications import NotificationSender
from tasklane.config import TasklaneConfig
from workflows.task import TaskWorkflow


class TasklanePlugin(SimplePlugin):
    def __init__(self, config: TasklaneConfig | None = None) -> None:
        config = config or TasklaneConfig()
        self._caller = TargetCaller(allow_private=config.allow_private_targets)
        self._sender = NotificationSender(
            secrets=config.signing.secrets, allow_private=config.allow_private_targets
        )
        super().__init__(
            "tasklane",
            workflows=[TaskWorkflow],
            activities=[self._caller.call_target, self._sender.deliver_notification],
            run_context=self._connection_pools,
        )

    @asynccontextmanager
    async def _connection_pools(self) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await self._caller.aclose()
            await self._sender.aclose()
