"""A system task's place in the running view: shown when it becomes due, kept while it runs
or waits to retry, dropped (with its update event) when it ends.

Only tasks of a client account take part. Tasks started before this existed replay without
it (`workflow.patched`); its activities never fail the task (Redis is a cache).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, is_cancelled_exception

with workflow.unsafe.imports_passed_through():
    from tasklane.model import Status, TaskSpec
    from tasklane.running_entries import (
        DEFAULT_TTL_S,
        RunningEnded,
        RunningEntry,
        RunningRef,
        RunningStarted,
        started_at,
    )

PATCH = "running-view"
# The view is a cache: a short try, never holding the task's attempt back for long.
VIEW_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=500), maximum_attempts=2)


class SystemView:
    def __init__(self, spec: TaskSpec) -> None:
        self._spec = spec
        self._entry: RunningEntry | None = None

    @property
    def ttl_s(self) -> float:
        return self._spec.ttl_s or DEFAULT_TTL_S

    @property
    def ref(self) -> RunningRef | None:
        """What an attempt refreshes while it runs, if the task is shown."""
        if self._entry is None:
            return None
        return RunningRef(self._entry.client_account, self._entry.task_id, self.ttl_s)

    async def show(self) -> None:
        """Show the task as running from now, and announce it."""
        spec = self._spec
        account = spec.scope.client_account
        if account is None or self._entry is not None or not workflow.patched(PATCH):
            return
        meta = spec.payload if spec.payload is not None else {}
        started = started_at(spec.execute_after, bool(spec.blocked_by), workflow.now())
        self._entry = RunningEntry(
            spec.task_id, account, spec.type, started, meta, spec.organisation
        )
        await self._run("announce_running", RunningStarted(self._entry, self.ttl_s))

    async def extend(self, wait_s: float) -> None:
        """Keep the entry through a retry wait, when no attempt refreshes it."""
        if self._entry is not None:
            started = RunningStarted(self._entry, self.ttl_s + wait_s, announce=False)
            await self._run("announce_running", started)

    async def end(self, status: Status, result_meta: dict[str, Any] | None) -> None:
        """Drop the entry and send update_system_task (completed, or failed for any other
        end: the seed knows no other word)."""
        if self._entry is None:
            return
        entry, self._entry = self._entry, None
        word = "completed" if status == Status.COMPLETED else "failed"
        ended = RunningEnded(
            entry.client_account, entry.task_id, word, result_meta, entry.organisation
        )
        await self._run("announce_ended", ended)

    async def _run(self, activity: str, argument: Any) -> None:
        try:
            await workflow.execute_activity(
                activity,
                argument,
                start_to_close_timeout=timedelta(seconds=5),
                schedule_to_close_timeout=timedelta(seconds=12),
                retry_policy=VIEW_RETRY,
                summary=f"{activity.replace('_', ' ')} (system task view)",
            )
        except ActivityError as e:
            if is_cancelled_exception(e):
                raise asyncio.CancelledError() from e  # an operator's cancel is not ours to eat
            workflow.logger.warning("%s failed; the reconciliation repairs the view", activity)
