"""Tasks as Temporal holds them: start, read, list and cancel, for every dialect.

The API keeps no task state: a task is its workflow, read from the memo and search
attributes through `describe` and visibility, which answer even while no worker runs.
"""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime

from temporalio.client import (
    Client,
    RPCTimeoutOrCancelledError,
    WorkflowExecution,
    WorkflowExecutionStatus,
    WorkflowUpdateFailedError,
    WorkflowUpdateStage,
)
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from tasklane import search_attributes as sa
from tasklane.config import ApiKey
from tasklane.errors import InvalidTask, NotCancellable, NoWorker
from tasklane.model import (
    MEMO_SPEC,
    MEMO_STATE,
    WORKFLOW_TYPE,
    CancelRequest,
    CancelResult,
    LiveFields,
    Status,
    TaskError,
    TaskInput,
    TaskSpec,
    TaskState,
    merge_live,
)
from tasklane.task_pages import Cursor, newest_first
from tasklane.task_start import initial_search_attributes, start_details, summary
from tasklane.visibility import quote, tasks_of

# How long an accepted cancel may take to answer: a group task cancels its children first,
# each within activities.group_tasks.CHILD_CANCEL_WAIT_S.
CANCEL_ANSWER_WAIT_S = 60.0


@dataclass
class TaskView:
    spec: TaskSpec
    state: TaskState


@dataclass
class TaskPage:
    total: int
    tasks: list[TaskView]
    has_more: bool = False


class TaskStore:
    def __init__(self, client: Client, task_queue: str, cancel_wait_s: float = 10.0) -> None:
        self.client = client
        self.task_queue = task_queue
        self.cancel_wait_s = cancel_wait_s

    async def submit(self, spec: TaskSpec, state: TaskState) -> tuple[TaskView, bool]:
        """Start the task's workflow; (existing task, False) when its id is already taken."""
        try:
            await self.client.start_workflow(
                WORKFLOW_TYPE,
                TaskInput(spec, state),
                id=spec.task_id,
                task_queue=self.task_queue,
                # A unique_id maps to one workflow id; Temporal refuses a second start for as
                # long as the first is retained, so concurrent duplicates cannot both win.
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                search_attributes=initial_search_attributes(spec, state),
                memo={MEMO_SPEC: spec, MEMO_STATE: state},
                static_summary=summary(spec),
                static_details=start_details(spec),
            )
            return TaskView(spec, state), True
        except WorkflowAlreadyStartedError:
            existing = await self.get(spec.organisation, spec.task_id)
            if existing is None:
                raise InvalidTask(
                    "a task with this unique_id exists but belongs to no organisation you can read",
                    field="unique_id",
                ) from None
            return existing, False

    async def get(self, viewer: str | ApiKey, task_id: str) -> TaskView | None:
        """The task if it exists and the viewer (an organisation, or a key, which may be
        limited to some accounts and projects) may see it, else None."""
        view = await describe_task(self.client, task_id)
        if view is None:
            return None
        if isinstance(viewer, str):
            return view if view.spec.organisation == viewer else None
        return view if viewer.may_see(view.spec) else None

    async def check_blockers(
        self, spec: TaskSpec, viewer: str | ApiKey | None = None, max_nodes: int = 1000
    ) -> None:
        """Refuse blockers that are unknown, not the viewer's to see, or that would close a
        cycle (a blocker that, through its own blockers, waits for this very task)."""
        if spec.task_id in spec.blocked_by:
            raise InvalidTask("a task cannot block itself", field="blocked_by")
        viewer = viewer or spec.organisation
        found = await asyncio.gather(*(self.get(viewer, b) for b in spec.blocked_by))
        for blocker_id, view in zip(spec.blocked_by, found, strict=True):
            if view is None:
                raise InvalidTask(f"no task {blocker_id}", field="blocked_by")
        if spec.unique_id is None:
            return  # a random id is new: no existing task can be waiting for it
        # Walk the unfinished part of the graph upwards; finished tasks block nothing.
        frontier = [v for v in found if v is not None and not v.state.status.finished]
        seen: set[str] = set()
        while frontier:
            if len(seen) >= max_nodes:
                raise InvalidTask(
                    f"blocked_by leads through more than {max_nodes} unfinished tasks",
                    field="blocked_by",
                )
            view = frontier.pop()
            if view.spec.task_id in seen:
                continue
            seen.add(view.spec.task_id)
            if spec.task_id in view.spec.blocked_by:
                raise InvalidTask(
                    f"blocked_by would make a cycle through {view.spec.task_id}",
                    field="blocked_by",
                )
            parents = await asyncio.gather(
                *(self.get(spec.organisation, b) for b in view.spec.blocked_by if b not in seen)
            )
            frontier += [p for p in parents if p is not None and not p.state.status.finished]

    async def list_tasks(
        self,
        organisation: str,
        *,
        status: Status | None = None,
        tags: list[str] | None = None,
        parent_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
        scope: list[str] | None = None,
    ) -> TaskPage:
        clauses = tasks_of(organisation) + (scope or [])
        if status is not None:
            clauses.append(f"TaskStatus = {quote(status.value)}")
        if parent_id is not None:
            clauses.append(f"{sa.TASK_PARENT_ID.name} = {quote(parent_id)}")
        for tag in tags or []:
            clauses.append(f"TaskTags = {quote(tag)}")
        query = " AND ".join(clauses)
        count, executions = await asyncio.gather(
            self.client.count_workflows(query), self._page(query, limit, offset)
        )
        views = [view for view in await asyncio.gather(*map(view_of, executions)) if view]
        return TaskPage(total=count.count, tasks=views)

    async def list_newest(
        self,
        organisation: str,
        clauses: list[str],
        *,
        limit: int,
        after: Cursor | None = None,
        before: Cursor | None = None,
    ) -> TaskPage:
        """Tasks matching every clause, newest first, from a cursor (see tasklane.task_pages)."""
        # Tasks from before TaskCreatedMs existed cannot be ordered: leave them out whole,
        # so totals and pages agree.
        created = f"{sa.TASK_CREATED_MS.name} >= 0"
        query = " AND ".join([*tasks_of(organisation), created, *clauses])
        page = await newest_first(self.client, query, limit=limit, after=after, before=before)
        views = await asyncio.gather(*map(view_of, page.executions))
        return TaskPage(page.total, [v for v in views if v], page.has_more)

    async def _page(self, query: str, limit: int, offset: int) -> list[WorkflowExecution]:
        if limit == 0:
            return []
        found: list[WorkflowExecution] = []
        page_size = min(offset + limit, 1000)
        async for execution in self.client.list_workflows(
            query, limit=offset + limit, page_size=page_size
        ):
            found.append(execution)
        return found[offset:]

    async def cancel(self, view: TaskView) -> CancelResult:
        """Ask the workflow to cancel; NotCancellable carries its reason when it refuses."""
        if view.state.status.finished:
            raise NotCancellable(f"the task is already {view.state.status.value}")
        handle = self.client.get_workflow_handle(view.spec.task_id)
        try:
            # The SDK polls the update until a worker accepts it: with no worker running that
            # is forever, so acceptance gets a deadline. Once accepted the cancel is decided;
            # its answer can take longer (a group task first cancels its children).
            async with asyncio.timeout(self.cancel_wait_s):
                update = await handle.start_update(
                    "cancel",
                    CancelRequest(),
                    wait_for_stage=WorkflowUpdateStage.ACCEPTED,
                    result_type=CancelResult,
                )
            async with asyncio.timeout(CANCEL_ANSWER_WAIT_S):
                return await update.result()
        except WorkflowUpdateFailedError as e:
            reason = e.cause.message if isinstance(e.cause, ApplicationError) else str(e.cause)
            raise NotCancellable(reason) from None
        except (TimeoutError, RPCTimeoutOrCancelledError):
            raise NoWorker(
                "no worker answered the cancellation in time; the task is unchanged, retry"
            ) from None
        except RPCError as e:
            if e.status == RPCStatusCode.NOT_FOUND:
                raise NotCancellable("the task has already finished") from None
            raise


async def describe_task(client: Client, task_id: str) -> TaskView | None:
    """Any organisation's task by id, from Temporal; None if there is none."""
    try:
        description = await client.get_workflow_handle(task_id).describe()
    except RPCError as e:
        if e.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT):
            return None
        raise
    return await view_of(description)


async def view_of(execution: WorkflowExecution) -> TaskView | None:
    try:
        spec = await execution.memo_value(MEMO_SPEC, type_hint=TaskSpec)
        state = await execution.memo_value(MEMO_STATE, type_hint=TaskState)
    except KeyError:
        return None
    state = merge_live(state, _live_fields(execution, state))
    return TaskView(spec, _settle(spec, state, execution))


def _live_fields(execution: WorkflowExecution, snapshot: TaskState) -> LiveFields:
    found = execution.typed_search_attributes
    status = found.get(sa.TASK_STATUS)
    return LiveFields(
        status=Status(status) if status else snapshot.status,
        attempts=found.get(sa.TASK_ATTEMPTS) or snapshot.attempts,
        started_at=found.get(sa.TASK_STARTED_AT),
        completed_at=found.get(sa.TASK_COMPLETED_AT),
    )


def _settle(spec: TaskSpec, state: TaskState, execution: WorkflowExecution) -> TaskState:
    """The stored state, read as of now.

    A scheduled task whose time has come is `queued` (the workflow does not spend a write on
    that). A workflow stopped behind the task's back (terminated or timed out by an operator,
    or failed) is reported as what it is instead of its last live status.
    """
    running = execution.status in (None, WorkflowExecutionStatus.RUNNING)
    if running and state.status == Status.SCHEDULED and spec.execute_after <= _now():
        return dataclasses.replace(state, status=Status.QUEUED, previous_status=Status.SCHEDULED)
    if running or state.status.finished or execution.status == WorkflowExecutionStatus.COMPLETED:
        return state
    assert execution.status is not None
    stopped = execution.status.name.lower()
    by_operator = execution.status in (
        WorkflowExecutionStatus.TERMINATED,
        WorkflowExecutionStatus.CANCELED,
    )
    return dataclasses.replace(
        state,
        status=Status.CANCELLED if by_operator else Status.FAILED,
        previous_status=state.status,
        completed_at=execution.close_time or state.updated_at,
        next_attempt_at=None,
        error=TaskError(stopped, f"the task's workflow was {stopped}"),
    )


def _now() -> datetime:
    return datetime.now(UTC)
