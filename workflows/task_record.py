"""What a task records of itself: every status change persisted to the memo and search
attributes (so the API reads tasks without a worker), announced to the notification
endpoints, and, once final, told to the tasks waiting on it before the workflow closes.

TaskWorkflow builds on this; it decides the changes, this records them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate

from workflows.blockers import Dependents
from workflows.outbox import Outbox
from workflows.system_view import SystemView
from workflows.task_text import details, event_body

with workflow.unsafe.imports_passed_through():
    from tasklane import search_attributes as sa
    from tasklane.model import (
        EVENT_FOR_STATUS,
        MEMO_STATE,
        SEARCH_ATTRIBUTES_ONLY,
        BlockerOutcome,
        GroupInfo,
        Status,
        TaskError,
        TaskOutcome,
        TaskSpec,
        TaskState,
    )


class TaskRecord:
    def __init__(self, spec: TaskSpec, state: TaskState) -> None:
        self._spec = spec
        self._state = state
        self._outbox = Outbox(spec.notifications)
        self._view = SystemView(spec)
        self._dependents = Dependents()
        if spec.parent_id and spec.notifications:
            # A group's child tells its group task how it ended, as a blocker would, when its
            # close may wait for its notifications; otherwise its close, a moment after its
            # end, tells the group task (workflows/fanout.py), and costs no signal.
            self._dependents.add(spec.parent_id)

    async def _finish(
        self, status: Status, error: TaskError | None = None, **changes: Any
    ) -> TaskOutcome:
        self._transition(
            status, error=error, completed_at=workflow.now(), next_attempt_at=None, **changes
        )
        return await self._close(status)

    async def _close(self, status: Status) -> TaskOutcome:
        """The status is final: leave the running view, then stay open only as long as
        results, notifications, dependents or an update in flight need."""
        self._count_end(status)
        await self._view.end(status, self._state.result_meta)
        # The task's status is final now. Stay open while its results are retained (to take
        # acks), and until every notification is out, every dependent has been told, and a
        # cancel update in flight has answered its caller.
        if self._state.results:
            await self._retain_results()
        while True:
            await workflow.wait_condition(
                lambda: (
                    self._dependents.untold
                    or (self._outbox.idle and workflow.all_handlers_finished())
                )
            )
            if not self._dependents.untold:
                break
            await self._dependents.tell(BlockerOutcome(self._spec.task_id, status))
        return TaskOutcome(status, self._state.attempts, self._state.error)

    async def _retain_results(self) -> None:
        """Wait out the result retention, telling dependents at once as they subscribe."""
        end = self._retention_end()
        while (left_s := (end - workflow.now()).total_seconds()) > 0:
            try:
                await workflow.wait_condition(
                    lambda: self._dependents.untold,
                    timeout=left_s,
                    timeout_summary="result retention",
                )
            except TimeoutError:
                return
            await self._dependents.tell(BlockerOutcome(self._spec.task_id, self._state.status))

    def _retention_end(self) -> datetime:
        completed_at = self._state.completed_at or workflow.now()
        return completed_at + timedelta(seconds=self._spec.result_retention_s)

    def _transition(self, status: Status, *, persist: bool = True, **changes: Any) -> None:
        """Move to `status`: persist it (search attributes always, the memo snapshot unless the
        search attributes say it all, see tasklane.model.merge_live) and notify."""
        current = self._state
        self._state = dataclasses.replace(
            current,
            status=status,
            # A task submitted due is already `queued`: announcing it is not a change.
            previous_status=current.status if current.status != status else current.previous_status,
            updated_at=workflow.now(),
            **changes,
        )
        if persist:
            # A handler's result_meta and results, and a group's counts, live in the memo only.
            carries_more = bool(
                changes.get("result_meta") or changes.get("results") or changes.get("group_info")
            )
            self._persist(memo=status not in SEARCH_ATTRIBUTES_ONLY or carries_more)
        event = EVENT_FOR_STATUS.get(status)
        if event:
            self._outbox.emit(event, lambda name: event_body(self._spec, self._state, name))

    def _persist(self, memo: bool) -> None:
        state = self._state
        updates: list[SearchAttributeUpdate[Any]] = [sa.TASK_STATUS.value_set(state.status.value)]
        updates.append(sa.TASK_ATTEMPTS.value_set(state.attempts))
        if state.started_at:
            updates.append(sa.TASK_STARTED_AT.value_set(state.started_at))
            updates.append(sa.TASK_STARTED_MS.value_set(sa.epoch_ms(state.started_at)))
        elif state.previous_status == Status.PROCESSING:
            # The attempt never started after all (expired waiting for a worker).
            updates.append(sa.TASK_STARTED_AT.value_unset())
            updates.append(sa.TASK_STARTED_MS.value_unset())
        if state.completed_at:
            updates.append(sa.TASK_COMPLETED_AT.value_set(state.completed_at))
            updates.append(sa.TASK_COMPLETED_MS.value_set(sa.epoch_ms(state.completed_at)))
        if state.results:
            # Result ids become labels, so a result is found from its id alone.
            updates.append(sa.TASK_LABELS.value_set(sa.task_labels(self._spec, state.results)))
        workflow.upsert_search_attributes(updates)
        if memo:
            workflow.upsert_memo({MEMO_STATE: state})
        workflow.set_current_details(details(self._spec, state))

    def _count_end(self, status: Status) -> None:
        """`tasklane_tasks_finished` on the worker's metrics (the SDK skips it on replay)."""
        workflow.metric_meter().create_counter(
            "tasklane_tasks_finished", "tasks that reached a final status", "tasks"
        ).add(1, {"status": status.value, "type": self._spec.type})

    def _record_group(self, info: GroupInfo, events: list[tuple[str, str]]) -> None:
        """Store a group task's new counts, then send the (event, child id) pairs its
        children's latest ends raised."""
        self._state = dataclasses.replace(self._state, group_info=info, updated_at=workflow.now())
        self._persist(memo=True)
        for event, child_id in events:
            self._outbox.emit(event, self._child_event_body(child_id))

    def _child_event_body(self, child_id: str) -> Callable[[str], dict[str, Any]]:
        return lambda event: {
            **event_body(self._spec, self._state, event),
            "child_task_id": child_id,
        }
