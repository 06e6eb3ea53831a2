"""Group tasks: one child task per URL of the group, and what the group task makes of them.

Each child is a TaskWorkflow of its own (own id, attempts, retries, cancel), started as a
child workflow so the Web UI links it to its group task. The group task counts each child
as it closes; a child whose close may wait for its notifications also signals its end
(`blocker_finished`, as a blocker tells its dependents). No polling either way. Children
are abandoned, not terminated, when the group task closes: a child mid-attempt when its
group task is cancelled runs to its own end.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import (
    ActivityError,
    CancelledError,
    ChildWorkflowError,
    TerminatedError,
)
from temporalio.workflow import ActivityHandle, ChildWorkflowHandle, ParentClosePolicy

from workflows.attempts import SINGLE_TRY

with workflow.unsafe.imports_passed_through():
    from activities.group_tasks import ChildrenCancelled, ChildrenToCancel, GroupLookup, GroupUrls
    from tasklane.model import (
        MEMO_SPEC,
        MEMO_STATE,
        TASK_EVENTS,
        WORKFLOW_TYPE,
        BlockerOutcome,
        ChildNotCancelled,
        GroupInfo,
        HttpTarget,
        NotificationEndpoint,
        Status,
        TaskInput,
        TaskOutcome,
        TaskSpec,
        initial_state,
    )
    from tasklane.task_start import initial_search_attributes, start_details, summary

# The event a child's end raises on its group task, besides `group.first_failed`.
_CHILD_END_EVENTS = {Status.CANCELLED: "group.task_cancelled", Status.EXPIRED: "group.task_expired"}
# The server refuses a workflow task's answer over 4 MB: child starts go in batches of about
# this much (input and memo each carry the child's spec, payload included).
START_BATCH_BYTES = 1024 * 1024
# A group read is retried (at most every 30 s) while the registry cannot answer.
_READ_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30))


class Fanout:
    """A group task's children and how each ended."""

    def __init__(self, spec: TaskSpec) -> None:
        self._spec = spec
        self._specs: list[TaskSpec] = []
        self._children: list[str] = []
        self._outcomes: dict[str, BlockerOutcome] = {}
        self._unreported: list[BlockerOutcome] = []
        self._first_failed_seen = False
        self.started = False
        # Set when the group task itself is cancelled: its one `group.task_cancelled` then
        # stands for the children it cancels.
        self.cancelled = False

    def resolve(self) -> ActivityHandle[GroupUrls]:
        """Read the group's URLs as they are now (a PATCH before this point counts)."""
        assert self._spec.group_name is not None
        return workflow.start_activity(
            "resolve_url_group",
            GroupLookup(self._spec.organisation, self._spec.group_name),
            result_type=GroupUrls,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=_READ_RETRY,
            summary=f"read URL group {self._spec.group_name}",
        )

    def plan(self, urls: list[str]) -> None:
        """Name the children, one per URL, before any starts (so `info` counts them all)."""
        now = workflow.now()
        self._specs = [child_spec(self._spec, index, url, now) for index, url in enumerate(urls)]
        self._children = [spec.task_id for spec in self._specs]

    async def start(self) -> None:
        """Start every child: as many per workflow task as fit well inside the server's
        message limit (each start carries the spec twice), so usually all at once."""
        for batch in _batches(self._specs):
            handles = await asyncio.gather(*map(_start_child, batch))
            for handle in handles:
                asyncio.create_task(self._follow(handle))
        self.started = True

    async def _follow(self, child: ChildWorkflowHandle[Any, TaskOutcome]) -> None:
        """Count the child as it closes: with its outcome, or, when an operator stopped its
        workflow (terminated, timed out), as cancelled or failed."""
        try:
            outcome = await child
            self.record(BlockerOutcome(child.id, outcome.status))
        except ChildWorkflowError as e:
            stopped = isinstance(e.cause, (TerminatedError, CancelledError))
            status = Status.CANCELLED if stopped else Status.FAILED
            note = f"its workflow ended: {type(e.cause).__name__}"
            self.record(BlockerOutcome(child.id, status, note))

    @property
    def planned(self) -> bool:
        """The children are known (and starting, or started)."""
        return bool(self._children)

    @property
    def finished(self) -> bool:
        return self.started and len(self._outcomes) == len(self._children)

    def record(self, outcome: BlockerOutcome) -> None:
        if outcome.task_id in self._children and outcome.task_id not in self._outcomes:
            self._outcomes[outcome.task_id] = outcome
            self._unreported.append(outcome)

    @property
    def news(self) -> bool:
        return bool(self._unreported)

    def take_news(self) -> list[tuple[str, str]]:
        """(event, child id) for every child end recorded since the last call, in order."""
        events = []
        for outcome in self._unreported:
            if outcome.status in (Status.FAILED, Status.ABANDONED) and not self._first_failed_seen:
                self._first_failed_seen = True
                events.append(("group.first_failed", outcome.task_id))
            cancelled_with_group = outcome.status == Status.CANCELLED and self.cancelled
            if outcome.status in _CHILD_END_EVENTS and not cancelled_with_group:
                events.append((_CHILD_END_EVENTS[outcome.status], outcome.task_id))
        self._unreported = []
        return events

    @property
    def info(self) -> GroupInfo:
        completed = sum(o.status == Status.COMPLETED for o in self._outcomes.values())
        return GroupInfo(len(self._children), completed, len(self._outcomes) - completed)

    def closing_events(self) -> list[str]:
        """Once every child has ended: how the group went, then `group.all_completed`."""
        info = self.info
        if info.completed == info.total_tasks:
            return ["group.all_completed"]
        verdict = "group.all_failed" if info.completed == 0 else "group.partial_completion"
        return [verdict, "group.all_completed"]

    async def cancel_unfinished(self) -> ChildrenCancelled:
        """Cancel every child that has not ended, as a DELETE of each would."""
        unfinished = [c for c in self._children if c not in self._outcomes]
        if not unfinished:
            return ChildrenCancelled([], [])
        try:
            return await workflow.execute_activity(
                "cancel_group_children",
                ChildrenToCancel(unfinished),
                result_type=ChildrenCancelled,
                start_to_close_timeout=timedelta(seconds=60),
                retry_policy=SINGLE_TRY,
                summary=f"cancel {len(unfinished)} child task(s)",
            )
        except ActivityError as e:
            reason = f"could not be asked to cancel: {e.cause or e}"
            return ChildrenCancelled([], [ChildNotCancelled(c, reason) for c in unfinished])


def child_spec(parent: TaskSpec, index: int, url: str, now: datetime) -> TaskSpec:
    """The child task for the group's `index`th URL: the group task's payload, method,
    headers, retry, timeout and expiry, due now."""
    assert parent.target is not None
    digest = hashlib.sha256(f"{parent.task_id}/{index}".encode()).hexdigest()[:32]
    return dataclasses.replace(
        parent,
        task_id=f"task_{digest}",
        created_at=now,
        execute_after=now,
        target=HttpTarget(url, parent.target.method, dict(parent.target.headers)),
        notifications=child_notifications(parent.notifications),
        unique_id=None,
        blocked_by=[],
        parent_id=parent.task_id,
    )


def child_notifications(endpoints: list[NotificationEndpoint]) -> list[NotificationEndpoint]:
    """Children notify only endpoints whose `events` name `task.*` events, and only those:
    an endpoint left to "every event" hears the group task, not each of its children."""
    chosen = []
    for endpoint in endpoints:
        events = [e for e in endpoint.events or [] if e in TASK_EVENTS]
        if events:
            chosen.append(dataclasses.replace(endpoint, events=events))
    return chosen


def _batches(specs: list[TaskSpec]) -> list[list[TaskSpec]]:
    # The children's specs differ only in the URL: size one, with room for the longest URL.
    size = 2 * (len(json.dumps(dataclasses.asdict(specs[0]), default=str)) + 4096)
    per_batch = max(1, START_BATCH_BYTES // size)
    return [specs[i : i + per_batch] for i in range(0, len(specs), per_batch)]


async def _start_child(spec: TaskSpec) -> ChildWorkflowHandle[Any, TaskOutcome]:
    state = initial_state(spec, spec.created_at)
    return await workflow.start_child_workflow(
        WORKFLOW_TYPE,
        TaskInput(spec, state),
        id=spec.task_id,
        result_type=TaskOutcome,
        parent_close_policy=ParentClosePolicy.ABANDON,
        search_attributes=initial_search_attributes(spec, state),
        memo={MEMO_SPEC: spec, MEMO_STATE: state},
        static_summary=summary(spec),
        static_details=start_details(spec),
    )
