"""Results of Python-handler tasks: their descriptions (in the task's memo), their bytes (in
the history of the attempt that published them), acks, and retention.

The bytes are read from the history rather than kept in the memo: the memo is copied into
visibility at every write, and results can be a megabyte. History reads need no worker and
work on closed workflows too.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from temporalio.client import Client, RPCTimeoutOrCancelledError, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from activities.python_handlers import HandlerResult
from tasklane import search_attributes as sa
from tasklane.errors import NoWorker, ResultNotAvailable, TaskNotFound
from tasklane.model import AckRequest, ResultInfo
from tasklane.task_store import TaskStore, TaskView, view_of
from tasklane.visibility import labelled, quote, tasks_of


class ResultState(StrEnum):
    AVAILABLE = "available"
    CONSUMED = "consumed"
    EXPIRED = "expired"


@dataclass
class ResultView:
    task: TaskView
    info: ResultInfo
    state: ResultState
    expires_at: datetime | None


def retention_end(task: TaskView) -> datetime | None:
    """When the task's results stop being served: retention after the task finished."""
    if task.state.completed_at is None:
        return None
    return task.state.completed_at + timedelta(seconds=task.spec.result_retention_s)


def results_of(task: TaskView, now: datetime | None = None) -> list[ResultView]:
    now = now or datetime.now(UTC)
    end = retention_end(task)
    views = []
    for info in task.state.results:
        if info.consumed_at is not None:
            state = ResultState.CONSUMED
        elif end is not None and now >= end:
            state = ResultState.EXPIRED
        else:
            state = ResultState.AVAILABLE
        views.append(ResultView(task, info, state, end))
    return views


class ResultStore:
    def __init__(self, tasks: TaskStore) -> None:
        self.tasks = tasks

    @property
    def client(self) -> Client:
        return self.tasks.client

    async def find(self, organisation: str, result_id: str) -> ResultView | None:
        """The result with this id, if it belongs to a task of `organisation`."""
        query = " AND ".join([*tasks_of(organisation), labelled("result", result_id)])
        async for execution in self.client.list_workflows(query, limit=1):
            task = await view_of(execution)
            if task is None:
                return None
            return next((r for r in results_of(task) if r.info.id == result_id), None)
        return None

    async def list(
        self,
        organisation: str,
        *,
        task_id: str | None = None,
        state: ResultState | None = None,
        scope: list[str] | None = None,
    ) -> list[ResultView]:
        """The organisation's results, newest task first (one visibility scan: list answers
        carry the memo, so no task is read twice)."""
        clauses = [*tasks_of(organisation), f"{sa.TASK_LABELS.name} = {quote(sa.HAS_RESULTS)}"]
        clauses += scope or []
        if task_id is not None:
            clauses.append(f"WorkflowId = {quote(task_id)}")
        query = " AND ".join(clauses)
        executions = [e async for e in self.client.list_workflows(query, page_size=1000)]
        tasks = [v for v in await asyncio.gather(*map(view_of, executions)) if v is not None]
        tasks.sort(key=lambda t: (t.spec.created_at, t.spec.task_id), reverse=True)
        now = datetime.now(UTC)
        found = [r for task in tasks for r in results_of(task, now)]
        return [r for r in found if state is None or r.state == state]

    async def data(self, result: ResultView) -> bytes:
        """The result's bytes; ResultNotAvailable once its retention has passed."""
        if result.expires_at is not None and datetime.now(UTC) >= result.expires_at:
            raise ResultNotAvailable(
                f"result {result.info.id} expired at {result.expires_at.isoformat()}"
            )
        published = await self._published(result.task.spec.task_id)
        for item in published.results:
            if item.info.id == result.info.id:
                return item.data
        raise TaskNotFound(f"no data for result {result.info.id}")

    async def ack(self, result: ResultView) -> ResultInfo:
        """Mark the result consumed (idempotent)."""
        handle = self.client.get_workflow_handle(result.task.spec.task_id)
        try:
            async with asyncio.timeout(self.tasks.cancel_wait_s):
                return await handle.execute_update(
                    "ack_result", AckRequest(result.info.id), result_type=ResultInfo
                )
        except WorkflowUpdateFailedError as e:
            message = e.cause.message if isinstance(e.cause, ApplicationError) else str(e.cause)
            raise ResultNotAvailable(message) from None
        except (TimeoutError, RPCTimeoutOrCancelledError):
            raise NoWorker("no worker took the ack in time; the result is unchanged") from None
        except RPCError as e:
            if e.status == RPCStatusCode.NOT_FOUND:
                # The workflow closed at the end of the retention between read and ack.
                raise ResultNotAvailable(f"result {result.info.id} has expired") from None
            raise

    async def _published(self, task_id: str) -> HandlerResult:
        """What the successful attempt returned, decoded from the workflow's history."""
        history = await self.client.get_workflow_handle(task_id).fetch_history()
        activity_names: dict[int, str] = {}
        found = None
        for event in history.events:
            if event.HasField("activity_task_scheduled_event_attributes"):
                scheduled = event.activity_task_scheduled_event_attributes
                activity_names[event.event_id] = scheduled.activity_type.name
            elif event.HasField("activity_task_completed_event_attributes"):
                completed = event.activity_task_completed_event_attributes
                if activity_names.get(completed.scheduled_event_id) == "run_handler":
                    found = completed.result
        if found is None:
            return HandlerResult()
        [decoded] = await self.client.data_converter.decode(found.payloads, [HandlerResult])
        return decoded  # type: ignore[no-any-return]
