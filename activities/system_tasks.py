"""System tasks' side effects: the running view in Redis and the real-time events.

Redis is a cache: these activities never fail a task. A write that cannot be made is logged
and left to the reconciliation (tasklane.reconcile), an event that cannot be sent is lost.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from temporalio import activity

from tasklane.running_entries import RunningEnded, RunningStarted
from tasklane.running_view import EventBus, RunningView, channel

if TYPE_CHECKING:
    from activities.pusher_events import PusherRelay

log = logging.getLogger("tasklane.worker")


class SystemTaskPublisher:
    """Writes the view and publishes events for the workers of one process."""

    def __init__(
        self,
        view: RunningView | None,
        bus: EventBus | None,
        relay: PusherRelay | None = None,
    ) -> None:
        """`relay`: also send the events to Pusher (when `[pusher]` is configured)."""
        self._view = view
        self._bus = bus
        self._relay = relay

    @activity.defn(name="announce_running")
    async def announce_running(self, started: RunningStarted) -> None:
        """Show the task in the running view and send `create_system_task`."""
        entry = started.entry
        data = {
            "task_id": entry.task_id,
            "task_type": entry.task_type,
            "started_at": entry.started_at,
            "meta": entry.meta,
        }
        try:
            if self._view is not None:
                await self._view.put(entry, started.ttl_s)
            if self._bus is not None and started.announce:
                await self._bus.publish(
                    entry.client_account, "create_system_task", data, entry.organisation
                )
        except Exception as e:
            log.warning("announcing %s as running failed: %s", entry.task_id, e)
        # Pusher does not depend on Redis: sent even when the lines above failed; never raises.
        if self._relay is not None and started.announce:
            await self._relay.trigger(channel(entry.client_account), "create_system_task", data)

    @activity.defn(name="announce_ended")
    async def announce_ended(self, ended: RunningEnded) -> None:
        """Drop the task from the running view and send `update_system_task`."""
        data = {
            "task_id": ended.task_id,
            "status": ended.status,
            "result_meta": ended.result_meta,
        }
        try:
            if self._view is not None:
                await self._view.remove(ended.client_account, ended.task_id)
            if self._bus is not None:
                await self._bus.publish(
                    ended.client_account, "update_system_task", data, ended.organisation
                )
        except Exception as e:
            log.warning("announcing the end of %s failed: %s", ended.task_id, e)
        if self._relay is not None:
            await self._relay.trigger(channel(ended.client_account), "update_system_task", data)
