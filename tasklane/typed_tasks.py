"""A new task of a registered type, as every creator builds it (ricloud `POST /tasks`, System
tasks, `TasklaneClient`): the type supplies what runs, its retry policy, timeout and TTL."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from tasklane.model import TaskScope, TaskSpec, TaskState, initial_state
from tasklane.task_types import TaskType


def new_task_id() -> str:
    return f"task_{uuid.uuid4().hex}"


def new_typed_task(
    task_type: TaskType,
    *,
    organisation: str,
    key_id: str,
    now: datetime,
    user: str | None = None,
    scope: TaskScope | None = None,
    payload: Any = None,
    blocked_by: list[str] | None = None,
    execute_after: datetime | None = None,
    task_id: str | None = None,
) -> tuple[TaskSpec, TaskState]:
    spec = TaskSpec(
        task_id=task_id or new_task_id(),
        organisation=organisation,
        key_id=key_id,
        created_at=now,
        execute_after=max(execute_after or now, now),
        target=task_type.target,
        type=task_type.name,
        user=user,
        payload=payload,
        retry=task_type.retry,
        timeout_s=task_type.attempt_timeout_s,
        handler=task_type.kind,
        handler_queue=task_type.task_queue,
        scope=scope or TaskScope(),
        blocked_by=list(dict.fromkeys(blocked_by or [])),
        result_retention_s=task_type.result_retention_s,
        max_result_bytes=task_type.max_result_bytes,
        max_results=task_type.max_results,
        ttl_s=task_type.ttl_s,
        trusted_target=task_type.target is not None,
    )
    return spec, initial_state(spec, now)
