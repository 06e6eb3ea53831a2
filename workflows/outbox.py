"""The notification outbox of one task workflow.

Each endpoint gets its own ordered queue, drained by one coroutine, so a receiver sees a
task's events in the order they happened, and a slow or dead endpoint delays only itself.
Deliveries run beside the task and never fail it; the workflow waits for the outbox to
drain before it closes, so no event is lost when the task finishes.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.notifications import NotificationInput
    from tasklane.model import NotificationEndpoint

DELIVERY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=2),
    maximum_attempts=12,  # about 15 minutes of tries, then the event is given up
)


class Outbox:
    def __init__(self, endpoints: list[NotificationEndpoint]) -> None:
        self._endpoints = endpoints
        self._queues: list[deque[NotificationInput]] = [deque() for _ in endpoints]
        self._draining = [False] * len(endpoints)

    def emit(self, event: str, body_for: Callable[[str], dict[str, Any]]) -> None:
        """Queue `event` for every endpoint that wants it; the body is built only if one does."""
        body: dict[str, Any] | None = None
        for index, endpoint in enumerate(self._endpoints):
            if not endpoint.wants(event):
                continue
            body = body or body_for(event)
            message_id = f"msg_{workflow.uuid4().hex}"
            self._queues[index].append(NotificationInput(message_id, endpoint, body))
            if not self._draining[index]:
                self._draining[index] = True
                # The workflow event loop is deterministic; tasks on it are safe.
                asyncio.create_task(self._drain(index))

    @property
    def idle(self) -> bool:
        return not any(self._draining)

    async def _drain(self, index: int) -> None:
        queue = self._queues[index]
        while queue:
            item = queue.popleft()
            try:
                await workflow.execute_activity(
                    "deliver_notification",
                    item,
                    start_to_close_timeout=timedelta(seconds=item.timeout_s + 5),
                    retry_policy=DELIVERY_RETRY,
                    summary=f"{item.body['event']} → {item.endpoint.url}"[:200],
                )
            except ActivityError:
                workflow.logger.warning(
                    "gave up delivering %s to %s", item.body["event"], item.endpoint.url
                )
        self._draining[index] = False
