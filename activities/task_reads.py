"""Reads of other tasks a workflow needs: the outcome of blockers that had already closed."""

# No `from __future__ import annotations`: the workflow decodes this module's results inside
# Temporal's sandbox, where string annotations may not resolve.

from dataclasses import dataclass

from temporalio import activity

from tasklane.model import BlockerOutcome, Status
from tasklane.task_store import describe_task


@dataclass
class OutcomesInput:
    task_ids: list[str]


@dataclass
class OutcomesResult:
    outcomes: list[BlockerOutcome]


@activity.defn(name="read_task_outcomes")
async def read_task_outcomes(request: OutcomesInput) -> OutcomesResult:
    """How each task ended (from Temporal); a task that no longer exists counts as failed."""
    client = activity.client()
    outcomes = []
    for task_id in request.task_ids:
        view = await describe_task(client, task_id)
        if view is None:
            outcomes.append(BlockerOutcome(task_id, Status.FAILED, "the task no longer exists"))
        else:
            outcomes.append(BlockerOutcome(task_id, view.state.status))
    return OutcomesResult(outcomes)
