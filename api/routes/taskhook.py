"""Taskhook dialect: `/v1/tasks`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from api.bodies import parse_body
from api.deps import SettingsDep, StoreDep, TaskhookKey
from api.errors import InvalidRequest, NotFound
from api.metrics import count_created
from api.openapi import json_body
from api.render.taskhook import render_task
from api.schemas.taskhook import TAG_PATTERN, SubmitTask, build_task, check_task_id
from tasklane.config import ApiKey
from tasklane.model import Status
from tasklane.task_store import TaskView
from tasklane.visibility import visible_to

router = APIRouter(prefix="/v1", tags=["Taskhook: tasks"])


@router.post(
    "/tasks",
    status_code=201,
    openapi_extra=json_body(SubmitTask),
)
async def submit_task(
    request: Request, key: TaskhookKey, settings: SettingsDep, store: StoreDep
) -> JSONResponse:
    """Submit a task: 201 with the task, or 200 with the existing one for a known unique_id."""
    config = settings.tasklane
    body = await parse_body(request, SubmitTask, config.limits.max_body_bytes)
    spec, state = build_task(
        body, key, config.limits, allow_private=config.allow_private_targets, now=_now()
    )
    if spec.blocked_by:
        await store.check_blockers(spec, key)
    view, created = await store.submit(spec, state)
    if created:
        count_created(request, "taskhook", spec.type)
    return JSONResponse(render_task(view), status_code=201 if created else 200)


@router.get("/tasks")
async def list_tasks(
    key: TaskhookKey,
    store: StoreDep,
    status: Annotated[Status | None, Query(description="Filter by status")] = None,
    tags: Annotated[
        str | None, Query(description="Comma-separated; tasks with all of them")
    ] = None,
    parent_id: Annotated[str | None, Query(description="The children of this group task")] = None,
    limit: Annotated[int, Query(ge=0, le=1000)] = 100,
    # Visibility has no offset: the page is read from the start, so deep offsets are capped.
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> dict[str, Any]:
    """List your tasks, newest first: `{"total": N, "tasks": [...]}`."""
    tag_list = [t.strip() for t in tags.split(",") if t.strip()] if tags else None
    for tag in tag_list or []:
        if not TAG_PATTERN.fullmatch(tag):
            raise InvalidRequest(f"tag {tag!r} is not a valid tag", field="tags")
    if parent_id is not None and not check_task_id(parent_id):
        raise InvalidRequest("parent_id must be a task id (task_<32 hex>)", field="parent_id")
    page = await store.list_tasks(
        key.organisation,
        status=status,
        tags=tag_list,
        parent_id=parent_id,
        limit=limit,
        offset=offset,
        scope=visible_to(key.client_accounts, key.projects),
    )
    return {"total": page.total, "tasks": [render_task(view) for view in page.tasks]}


@router.get("/tasks/{task_id}")
async def get_task(task_id: str, key: TaskhookKey, store: StoreDep) -> dict[str, Any]:
    """Retrieve a task with every property."""
    return render_task(await _find(store, key, task_id))


@router.delete("/tasks/{task_id}")
async def cancel_task(task_id: str, key: TaskhookKey, store: StoreDep) -> dict[str, Any]:
    """Cancel a task that is not mid-attempt and not finished; 409 with the reason otherwise.
    A group task also cancels its children that are not mid-attempt, and names the others."""
    view = await _find(store, key, task_id)
    result = await store.cancel(view)
    answer: dict[str, Any] = {"id": view.spec.task_id, "status": result.status.value}
    if view.spec.group_name is not None:
        answer["children"] = {
            "cancelled": result.children_cancelled,
            "not_cancelled": [
                {"id": c.task_id, "reason": c.reason} for c in result.children_not_cancelled
            ],
        }
    return answer


async def _find(store: StoreDep, key: ApiKey, task_id: str) -> TaskView:
    view = await store.get(key, task_id) if check_task_id(task_id) else None
    if view is None:
        raise NotFound(f"no task {task_id}")
    return view


def _now() -> datetime:
    return datetime.now(UTC)
