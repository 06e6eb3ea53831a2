"""The canonical task and its results in ricloud's words, and ricloud's error shape."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from fastapi.responses import JSONResponse

from api.errors import DIALECT_RENDERERS, ApiError
from tasklane.ids import as_uuid
from tasklane.model import Status
from tasklane.result_store import ResultView, results_of
from tasklane.task_store import TaskView


class RicloudState(StrEnum):
    """The five states of the ricloud task resource."""

    PENDING = "pending"
    PROCESSING = "processing"
    SUSPENDED = "suspended"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


STATES: dict[Status, RicloudState] = {
    Status.SCHEDULED: RicloudState.PENDING,
    Status.QUEUED: RicloudState.PENDING,
    Status.SUSPENDED: RicloudState.SUSPENDED,
    Status.PROCESSING: RicloudState.PROCESSING,
    Status.RETRYING: RicloudState.PROCESSING,
    Status.COMPLETED: RicloudState.SUCCEEDED,
    Status.FAILED: RicloudState.FAILED,
    Status.ABANDONED: RicloudState.FAILED,
    Status.CANCELLED: RicloudState.FAILED,
    Status.EXPIRED: RicloudState.FAILED,
}
# ricloud has one failed state, so the error code is what tells these endings apart.
ERROR_FOR_STATUS = {Status.CANCELLED: "cancelled", Status.EXPIRED: "expired"}

CODES = frozenset(
    {
        "invalid-parameter",
        "invalid-body",
        "not-authenticated",
        "authentication-failed",
        "missing-scope",
        "not-found",
        "method-not-allowed",
        "conflict",
        "gone",
        "body-too-large",
        "service-unavailable",
        "server-error",
    }
)
_CODES_BY_STATUS = {
    401: "authentication-failed",
    403: "missing-scope",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    410: "gone",
    413: "body-too-large",
    503: "service-unavailable",
}


def ricloud_time(moment: datetime | None) -> str | None:
    """UTC with microseconds and `Z`, as the seed prints: `2020-02-20T11:59:15.110451Z`."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def task_url(view: TaskView) -> str:
    return f"/tasks/{as_uuid(view.spec.task_id)}"


def list_object(data: list[dict[str, Any]], url: str, total: int, has_more: bool) -> dict[str, Any]:
    return {
        "resource": "list",
        "data": data,
        "has_more": has_more,
        "total_count": total,
        "url": url,
    }


def task_error(view: TaskView) -> str | None:
    """The error code of a failed task; None for every other state, even a task between
    attempts: its last attempt's error is not the task's error unless it ends that way."""
    status, error = view.state.status, view.state.error
    if STATES[status] != RicloudState.FAILED:
        return None
    return ERROR_FOR_STATUS.get(status) or (error.code if error else status.value)


def render_task(view: TaskView) -> dict[str, Any]:
    spec, state = view.spec, view.state
    results = [render_result(r) for r in results_of(view)]
    return {
        "id": as_uuid(spec.task_id),
        "resource": "task",
        "organisation": spec.organisation,
        "key": spec.key_id,
        "user": spec.user,
        "source": spec.scope.source,
        "session": spec.scope.session,
        "poll": spec.scope.poll,
        "source_type": spec.scope.source_type,
        "type": spec.type,
        "target": spec.scope.subject,
        "state": STATES[state.status].value,
        "results": list_object(results, f"{task_url(view)}/results", len(results), False),
        "error": task_error(view),
        "date_created": ricloud_time(spec.created_at),
        "date_started": ricloud_time(state.started_at),
        "date_completed": ricloud_time(state.completed_at),
    }


def render_result(result: ResultView) -> dict[str, Any]:
    info = result.info
    return {
        "id": info.id,
        "resource": "result",
        "task": as_uuid(result.task.spec.task_id),
        "identifier": info.identifier,
        "content_type": info.content_type,
        "checksum": info.md5,
        "size": info.size,
        "state": result.state.value,
        "url": f"/results/{info.id}/data",
        "date_created": ricloud_time(info.created_at),
        "date_expires": ricloud_time(result.expires_at),
    }


def error_code(error: ApiError) -> str:
    """The ricloud code for an error raised anywhere (routes, dependencies, FastAPI)."""
    if error.code in CODES:
        return error.code
    if error.status in (400, 422):
        return "invalid-body" if _location(error) == "body" else "invalid-parameter"
    return _CODES_BY_STATUS.get(error.status, "server-error")


def render_error(error: ApiError) -> JSONResponse:
    """`{"error": code, "message": ..., "params": {...}}` naming the offending input."""
    params: dict[str, Any] = {}
    if error.field and error.field != "body":
        name = "parameter" if _location(error) in ("query", "path") else "field"
        params[name] = error.field
    body = {"error": error_code(error), "message": error.message, "params": params}
    return JSONResponse(body, status_code=error.status, headers=error.headers)


def _location(error: ApiError) -> str:
    if error.code == "invalid_json":
        return "body"
    # Body validation reports bare field names; query and path errors always say where.
    return error.location or ("body" if error.field else "query")


DIALECT_RENDERERS.append((("/tasks", "/results"), render_error))
