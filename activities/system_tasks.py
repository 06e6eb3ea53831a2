"""System tasks' side effects: the running view in Redis and the real-time events.

Redis is a cache: these activities never fail a task. A write that cannot be made is logged
and left to the reconciliation (tasklane.reconcile), an event that cannot be sent is lost.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from temporalio import activity

from tasklane.running_view import EventBus, RunningEntry, RunningView

log = logging.getLogger("tasklane.worker")


@dataclass
class RunningStarted:
    entry: RunningEntry
    ttl_s: float
    # False when only the TTL is extended (a retry wait): the event went out already.
    announce: bool = True


@dataclass
class RunningEnded:
    client_account: int
    task_id: str
    # `completed` or `failed`, as the seed's update_system_task says.
    status: str
    result_meta: dict[str, Any] | None = None


class SystemTaskPublisher:
    """Writes the view and publishes events for the workers of one process."""

    def __init__(self, view: RunningView | None, bus: EventBus | None) -> None:
        self._view = view
        self._bus = bus

    @activity.defn(name="announce_running")
    async def announce_running(self, started: RunningStarted) -> None:
        """Show the task in the running view and send `create_system_task`."""
        entry = started.entry
        try:
            if self._view is not None:
                await self._view.put(entry, started.ttl_s)
            if self._bus is not None and started.announce:
                data = {
                    "task_id": entry.task_id,
                    "task_type": entry.task_type,
                    "started_at": entry.started_at,
                    "meta": entry.meta,
                }
                await self._bus.publish(entry.client_account, "create_system_task", data)
        except Exception as e:
            log.warning("announcing %s as running failed: %s", entry.task_id, e)

    @activity.defn(name="announce_ended")
    async def announce_ended(self, ended: RunningEnded) -> None:
        """Drop the task from the running view and send `update_system_task`."""
        try:
            if self._view is not None:
                await self._view.remove(ended.client_account, ended.task_id)
            if self._bus is not None:
                data = {
                    "task_id": ended.task_id,
                    "status": ended.status,
                    "result_meta": ended.result_meta,
                }
                await self._bus.publish(ended.client_account, "update_system_task", data)
        except Exception as e:
            log.warning("announcing the end of %s failed: %s", ended.task_id, e)
