"""Rebuilds the running view from Temporal, the source of truth, after Redis lost it.

Workers run it when they start and then periodically. It writes an entry for every task of a
client account that Temporal says is running (queued, processing or retrying), and drops
entries of tasks that are not, unless they are younger than one period: visibility lags a
little behind the workflows, and a task announced a moment ago must not be dropped.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from temporalio.client import Client

from tasklane import search_attributes as sa
from tasklane.model import WORKFLOW_TYPE, Status
from tasklane.running_entries import DEFAULT_TTL_S, RunningEntry, started_at
from tasklane.running_view import RunningView
from tasklane.task_store import TaskView, view_of
from tasklane.visibility import quote

log = logging.getLogger("tasklane.reconcile")
RUNNING = (Status.QUEUED, Status.PROCESSING, Status.RETRYING)


async def running_system_tasks(client: Client) -> list[TaskView]:
    """Every task of a client account that is running now, per Temporal."""
    live = ", ".join(quote(s.value) for s in (Status.SCHEDULED, *RUNNING))
    query = (
        f"WorkflowType = {quote(WORKFLOW_TYPE)} AND ExecutionStatus = 'Running' "
        f"AND {sa.TASK_STATUS.name} IN ({live}) "
        f"AND {sa.TASK_LABELS.name} != {quote(sa.label('client_account', sa.NO_SCOPE))}"
    )
    executions = [e async for e in client.list_workflows(query, page_size=1000)]
    views = await asyncio.gather(*map(view_of, executions))
    return [
        v
        for v in views
        if v is not None and v.spec.scope.client_account is not None and v.state.status in RUNNING
    ]


async def reconcile(client: Client, view: RunningView, grace: timedelta) -> int:
    """Make the view match Temporal; how many entries were written."""
    tasks = await running_system_tasks(client)
    now = datetime.now(UTC)
    running: dict[int, set[str]] = {}
    for task in tasks:
        entry, ttl_s = _entry(task, now)
        await view.put(entry, ttl_s)
        running.setdefault(entry.client_account, set()).add(entry.task_id)
    await _drop_stale(view, running, now - grace)
    return len(tasks)


async def reconcile_forever(client: Client, view: RunningView, every_s: float) -> None:
    grace = timedelta(seconds=every_s)
    while True:
        try:
            written = await reconcile(client, view, grace)
            log.debug("running view reconciled: %d running system tasks", written)
        except Exception as e:  # Redis or Temporal away: try again next period
            log.warning("running view reconciliation failed: %s", e)
        await asyncio.sleep(every_s)


def _entry(task: TaskView, now: datetime) -> tuple[RunningEntry, float]:
    spec, state = task.spec, task.state
    account = spec.scope.client_account
    assert account is not None
    ttl_s = spec.ttl_s or DEFAULT_TTL_S
    if state.next_attempt_at is not None:  # waiting to retry: nothing refreshes it meanwhile
        ttl_s += max(0.0, (state.next_attempt_at - now).total_seconds())
    meta = spec.payload if spec.payload is not None else {}
    # A task that waited on blockers became due at its `queued` transition (the memo keeps it).
    became_due = state.started_at or state.updated_at
    began = started_at(spec.execute_after, bool(spec.blocked_by), became_due)
    entry = RunningEntry(spec.task_id, account, spec.type, began, meta, spec.organisation)
    return entry, ttl_s


async def _drop_stale(view: RunningView, running: dict[int, set[str]], before: datetime) -> None:
    """Remove entries of tasks Temporal does not call running, announced before `before`."""
    async for account in view.accounts():
        for entry in await view.list(account):
            if entry.task_id in running.get(account, set()):
                continue
            if datetime.fromisoformat(entry.started_at) < before:
                await view.remove(account, entry.task_id)
