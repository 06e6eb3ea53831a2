"""Suspension on blocking tasks, without polling.

A suspended task signals each blocker `add_dependent`; every task signals its dependents
`blocker_finished` once its own status is final. A blocker that has already closed cannot
take the signal, so its outcome is read from Temporal once, by an activity.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from activities.task_reads import OutcomesInput, OutcomesResult
    from tasklane.model import (
        BLOCKER_FAILED,
        BlockerOutcome,
        DependentRequest,
        Status,
        TaskError,
    )


class Blockers:
    """What a suspended task knows of its blockers."""

    def __init__(self, task_id: str, blocker_ids: list[str]) -> None:
        self._task_id = task_id
        self._outcomes: dict[str, BlockerOutcome | None] = dict.fromkeys(blocker_ids)

    def record(self, outcome: BlockerOutcome) -> None:
        if outcome.task_id in self._outcomes and self._outcomes[outcome.task_id] is None:
            self._outcomes[outcome.task_id] = outcome

    async def subscribe(self) -> None:
        """Ask every blocker to report its end; read the end of those already closed."""
        closed = []
        for blocker_id in self._outcomes:
            try:
                await workflow.get_external_workflow_handle(blocker_id).signal(
                    "add_dependent", DependentRequest(self._task_id)
                )
            except FailureError:
                closed.append(blocker_id)
        if closed:
            read: OutcomesResult = await workflow.execute_activity(
                "read_task_outcomes",
                OutcomesInput(closed),
                result_type=OutcomesResult,
                start_to_close_timeout=timedelta(seconds=30),
                summary=f"read the outcome of {len(closed)} finished blocker(s)",
            )
            for outcome in read.outcomes:
                self.record(outcome)

    @property
    def settled(self) -> bool:
        """True once every blocker succeeded, or as soon as one did not."""
        return self.failure is not None or all(
            o is not None and o.status == Status.COMPLETED for o in self._outcomes.values()
        )

    @property
    def failure(self) -> TaskError | None:
        for outcome in self._outcomes.values():
            if outcome is not None and outcome.status != Status.COMPLETED:
                note = f" ({outcome.note})" if outcome.note else ""
                return TaskError(
                    BLOCKER_FAILED,
                    f"blocking task {outcome.task_id} ended {outcome.status.value}{note}",
                )
        return None


class Dependents:
    """The tasks waiting on this one; each is told once how this task ended."""

    def __init__(self) -> None:
        self._ids: list[str] = []
        self._told = 0

    def add(self, task_id: str) -> None:
        if task_id not in self._ids:
            self._ids.append(task_id)

    @property
    def untold(self) -> bool:
        return self._told < len(self._ids)

    async def tell(self, outcome: BlockerOutcome) -> None:
        while self._told < len(self._ids):
            dependent = self._ids[self._told]
            try:
                await workflow.get_external_workflow_handle(dependent).signal(
                    "blocker_finished", outcome
                )
            except FailureError:
                pass  # the dependent has ended (cancelled, expired): nothing waits any more
            # Counted only once sent: a signal cut short by an operator's cancel is sent again.
            self._told += 1
