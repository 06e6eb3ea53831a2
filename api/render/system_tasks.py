"""Running tasks, started tasks and real-time events in the System tasks dialect's words."""

from __future__ import annotations

import json
from typing import Any

from tasklane.running_view import RunningEntry
from tasklane.task_store import TaskView


def render_running(entry: RunningEntry) -> dict[str, Any]:
    """One item of `GET /api/v2/system-tasks`: exactly the seed's three fields."""
    return {"task_type": entry.task_type, "started_at": entry.started_at, "meta": entry.meta}


def render_started(view: TaskView) -> dict[str, Any]:
    """The answer to `POST /api/v2/system-tasks` (the seed documents none)."""
    spec = view.spec
    return {
        "id": spec.task_id,
        "task_type": spec.type,
        "client_account_id": spec.scope.client_account,
        "meta": spec.payload,
        "status": view.state.status.value,
    }


def sse_event(event: str, data: Any) -> str:
    """One Server-Sent Event; compact JSON never holds a raw newline, so one `data:` line."""
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def sse_comment(text: str) -> str:
    """A comment line, which EventSource clients ignore (keep-alives, notices)."""
    return f": {text}\n\n"
