"""The canonical task in Taskhook's words."""

from __future__ import annotations

import dataclasses
from typing import Any

from tasklane.model import NotificationEndpoint
from tasklane.task_store import TaskView
from tasklane.times import iso


def render_task(view: TaskView) -> dict[str, Any]:
    spec, state = view.spec, view.state
    return {
        "id": spec.task_id,
        "status": state.status.value,
        "target": dataclasses.asdict(spec.target) if spec.target else None,
        "type": spec.type,
        "notifications": _notifications(spec.notifications),
        "payload": spec.payload,
        "tags": spec.tags,
        "unique_id": spec.unique_id,
        "attempts": state.attempts,
        "retry": {
            "max_attempts": spec.retry.max_attempts,
            "backoff": spec.retry.backoff,
            "initial_delay": spec.retry.initial_delay_s,
            "max_delay": spec.retry.max_delay_s,
        },
        "timeout": spec.timeout_s,
        "execute_after": iso(spec.execute_after),
        "expires_at": iso(spec.expires_at),
        "created_at": iso(spec.created_at),
        "updated_at": iso(state.updated_at),
        "last_attempt_at": iso(state.last_attempt_at),
        "next_attempt_at": iso(state.next_attempt_at),
        "completed_at": iso(state.completed_at),
        "error": dataclasses.asdict(state.error) if state.error else None,
        "blocked_by": spec.blocked_by,
        "result_meta": state.result_meta,
        "group_info": state.group_info.as_dict() if state.group_info else None,
        "parent_id": spec.parent_id,
    }


def _notifications(endpoints: list[NotificationEndpoint]) -> Any:
    rendered = [
        {k: v for k, v in dataclasses.asdict(e).items() if v is not None} for e in endpoints
    ]
    if not rendered:
        return None
    return rendered[0] if len(rendered) == 1 else rendered
