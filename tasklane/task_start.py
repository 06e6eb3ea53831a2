"""What a task's workflow starts with, besides its input: the search attributes it is listed
by and the summary the Web UI shows. Used by the API at submit and by a group task starting
its children."""

from __future__ import annotations

import dataclasses

from temporalio.common import SearchAttributePair, TypedSearchAttributes

from tasklane import search_attributes as sa
from tasklane.model import TASK_TYPE_HTTP, TaskSpec, TaskState
from tasklane.times import iso


def initial_search_attributes(spec: TaskSpec, state: TaskState) -> TypedSearchAttributes:
    pairs: list[SearchAttributePair] = [
        SearchAttributePair(sa.TASK_STATUS, state.status.value),
        SearchAttributePair(sa.TASK_ORG, spec.organisation),
        SearchAttributePair(sa.TASK_TYPE, spec.type),
        SearchAttributePair(sa.TASK_ATTEMPTS, 0),
        SearchAttributePair(sa.TASK_LABELS, sa.task_labels(spec)),
        SearchAttributePair(sa.TASK_CREATED_AT, spec.created_at),
        SearchAttributePair(sa.TASK_CREATED_MS, sa.epoch_ms(spec.created_at)),
    ]
    if spec.tags:
        pairs.append(SearchAttributePair(sa.TASK_TAGS, spec.tags))
    if spec.parent_id:
        pairs.append(SearchAttributePair(sa.TASK_PARENT_ID, spec.parent_id))
    return TypedSearchAttributes(pairs)


def what(spec: TaskSpec) -> str:
    if spec.target is None:
        return f"{spec.type} (Python handler)"
    typed = f"{spec.type}: " if spec.type != TASK_TYPE_HTTP else ""
    return f"{typed}{spec.target.method} {spec.target.url}"


def summary(spec: TaskSpec) -> str:
    tags = f" · tags: {', '.join(spec.tags)}" if spec.tags else ""
    return f"{what(spec)}{tags}"[:400]


def start_details(spec: TaskSpec) -> str:
    lines = [
        f"**target** {what(spec)}",
        f"**organisation** {spec.organisation}",
        f"**execute after** {iso(spec.execute_after)}",
        f"**expires at** {iso(spec.expires_at) or 'never'}",
        f"**retry** up to {spec.retry.max_attempts} attempts, {spec.retry.backoff} backoff, "
        f"{spec.timeout_s:g} s per attempt",
        f"**notifications** {len(spec.notifications)} endpoint(s)",
    ]
    if spec.unique_id:
        lines.append(f"**unique id** {spec.unique_id}")
    if spec.parent_id:
        lines.append(f"**group task** {spec.parent_id}")
    if spec.blocked_by:
        lines.append(f"**blocked by** {', '.join(spec.blocked_by)}")
    scope = [f"{k} {v}" for k, v in dataclasses.asdict(spec.scope).items() if v is not None]
    if scope:
        lines.append(f"**scope** {' · '.join(scope)}")
    return "\n\n".join(lines)
