"""Newest-first pages with cursors, over Temporal visibility.

SQL visibility cannot ORDER BY (the dev server and PostgreSQL answer "operation is not
supported"): it returns open workflows first, then closed ones by close time. A stable
newest-first order therefore comes from creation-time windows: from the cursor, widen a
`TaskCreatedMs` window (counting, not reading) until it holds a page and one more, then read
just that window and sort it by (created, id).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from temporalio.client import Client, WorkflowExecution

from tasklane import search_attributes as sa
from tasklane.visibility import compare

FIRST_WINDOW = timedelta(minutes=1)
WIDEN_BY = 8
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Cursor:
    created_at: datetime
    task_id: str


@dataclass
class Page:
    total: int
    executions: list[WorkflowExecution]
    has_more: bool


async def newest_first(
    client: Client,
    query: str,
    *,
    limit: int,
    after: Cursor | None = None,
    before: Cursor | None = None,
    now: datetime | None = None,
) -> Page:
    """`limit` tasks matching `query`: the newest, those just older than `after`, or those
    just newer than `before` (still listed newest first)."""
    total = (await client.count_workflows(query)).count
    created = sa.TASK_CREATED_MS.name
    side = query
    if before is not None:
        side += f" AND {compare(created, 'gte', before.created_at)}"
    elif after is not None:
        side += f" AND {compare(created, 'lte', after.created_at)}"
    side_total = (await client.count_workflows(side)).count if side != query else total
    cursor = before or after
    anchor = cursor.created_at if cursor else (now or datetime.now(UTC))
    width = FIRST_WINDOW
    while True:
        if before is not None:
            window = f"{side} AND {compare(created, 'lte', anchor + width)}"
        else:
            window = f"{side} AND {compare(created, 'gte', max(anchor - width, EPOCH))}"
        covers_all = width > anchor - EPOCH
        count = side_total if covers_all else (await client.count_workflows(window)).count
        if count >= min(side_total, limit + 2) or covers_all:
            found = _beyond(await _read(client, side if covers_all else window), after, before)
            if len(found) > limit or count >= side_total or covers_all:
                page = found[:limit]
                if before is not None:
                    page.reverse()
                return Page(total, page, has_more=len(found) > limit)
        width *= WIDEN_BY


async def _read(client: Client, query: str) -> list[WorkflowExecution]:
    return [execution async for execution in client.list_workflows(query, page_size=1000)]


def _key(execution: WorkflowExecution) -> tuple[datetime, str]:
    created = execution.typed_search_attributes.get(sa.TASK_CREATED_AT) or execution.start_time
    return created, execution.id


def _beyond(
    executions: list[WorkflowExecution], after: Cursor | None, before: Cursor | None
) -> list[WorkflowExecution]:
    """Sorted away from the cursor (newest first, or oldest first for `before`), cursor out."""
    if before is not None:
        mark = (before.created_at, before.task_id)
        return sorted((e for e in executions if _key(e) > mark), key=_key)
    ordered = sorted(executions, key=_key, reverse=True)
    if after is None:
        return ordered
    mark = (after.created_at, after.task_id)
    return [e for e in ordered if _key(e) < mark]
