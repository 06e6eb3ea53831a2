"""The canonical task in Metavault's words, and Metavault's error shape.

Metavault is an ASP.NET-style API and its seed documents no error body, so errors are what
such an API answers by default: RFC 7807 problem details, media type
`application/problem+json`, `{"type": "about:blank", "title": <reason phrase>, "status": N,
"detail": <message>}`. `type` stays `about:blank` because we publish no per-error pages;
`title` is then the HTTP reason phrase, as RFC 7807 §4.2 asks.
"""

from __future__ import annotations

from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from fastapi.responses import JSONResponse

from api.errors import ApiError
from tasklane.ids import as_hex
from tasklane.model import Status
from tasklane.task_store import TaskView

PROBLEM_JSON = "application/problem+json"

# Metavault knows five states: everything before an attempt is Waiting, an attempt or the
# wait for the next one is Running, and a task that ended without running to success is
# Failed (it tried) or Cancelled (it never got the chance, or was stopped).
STATUS_NAMES: dict[Status, str] = {
    Status.SCHEDULED: "Waiting",
    Status.SUSPENDED: "Waiting",
    Status.QUEUED: "Waiting",
    Status.PROCESSING: "Running",
    Status.RETRYING: "Running",
    Status.COMPLETED: "Success",
    Status.FAILED: "Failed",
    Status.ABANDONED: "Failed",
    Status.CANCELLED: "Cancelled",
    Status.EXPIRED: "Cancelled",
}


def result_path(project_id: str, task_id: str) -> str:
    return f"/api/projects/{project_id}/tasks/{as_hex(task_id)}/result"


def metavault_time(moment: datetime) -> str:
    """UTC with .NET's seven fractional digits (100 ns ticks): `2026-04-17T14:30:02.3313845Z`.

    Python keeps microseconds, so the seventh digit is always 0.
    """
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def render_task(view: TaskView, project_id: str) -> dict[str, Any]:
    """GetBackgroundTask's body. `error` appears only on a Failed task (the seed's example
    omits it), and `_links.result` once the task has published a result, expired or not:
    an expired result answers 410, which tells the client more than a missing link."""
    spec, state = view.spec, view.state
    status = STATUS_NAMES[state.status]
    # creationDate comes from the creator's clock, lastUpdateDate from the workflow's: a
    # host running slightly ahead must not show a task updated before it was created.
    body: dict[str, Any] = {
        "id": as_hex(spec.task_id),
        "status": status,
        "type": spec.type,
        "creationDate": metavault_time(spec.created_at),
        "lastUpdateDate": metavault_time(max(state.updated_at, spec.created_at)),
        "userName": spec.user,
    }
    if status == "Failed" and state.error is not None:
        body["error"] = state.error.message
    if state.results:
        body["_links"] = {"result": {"href": result_path(project_id, spec.task_id)}}
    return body


def render_problem(error: ApiError) -> JSONResponse:
    """An ApiError as RFC 7807 problem details."""
    try:
        title = HTTPStatus(error.status).phrase
    except ValueError:
        title = "Error"
    body = {"type": "about:blank", "title": title, "status": error.status, "detail": error.message}
    return JSONResponse(
        body, status_code=error.status, headers=error.headers, media_type=PROBLEM_JSON
    )
