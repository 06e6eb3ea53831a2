"""ricloud dialect: `/tasks` and `/results`, called with `Authorization: Token <token>`."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from api.bodies import parse_body
from api.deps import ResultsDep, SettingsDep, StoreDep, ricloud_key
from api.errors import Gone, InvalidRequest, NotFound, Unauthorized
from api.metrics import count_created
from api.openapi import json_body
from api.render.ricloud import (
    RicloudState,
    list_object,
    render_result,
    render_task,
    task_url,
)
from api.schemas.ricloud import (
    CreateTask,
    build_task,
    date_clauses,
    date_parameters,
    filter_clauses,
)
from tasklane.config import ApiKey
from tasklane.ids import parse_task_id
from tasklane.result_store import ResultState, ResultStore, ResultView, results_of
from tasklane.task_pages import Cursor
from tasklane.task_store import TaskStore, TaskView
from tasklane.visibility import visible_to

router = APIRouter()


def ricloud_caller(request: Request) -> ApiKey:
    """The key of `Authorization: Token <token>`; 401 saying whether credentials were
    missing or wrong (a Bearer token counts as wrong here)."""
    try:
        return ricloud_key(request)
    except Unauthorized as e:
        sent = bool(request.headers.get("authorization"))
        e.code = "authentication-failed" if sent else "not-authenticated"
        raise


Caller = Annotated[ApiKey, Depends(ricloud_caller)]
Limit = Annotated[int, Query(ge=1, le=1000, description="Page size")]


@router.post(
    "/tasks",
    status_code=201,
    tags=["ricloud: tasks"],
    openapi_extra=json_body(CreateTask),
)
async def create_task(
    request: Request, caller: Caller, settings: SettingsDep, store: StoreDep
) -> dict[str, Any]:
    """Create a task of a registered type; 201 with the task resource."""
    config = settings.tasklane
    body = await parse_body(request, CreateTask, config.limits.max_body_bytes)
    spec, state = build_task(body, caller, config, datetime.now(UTC))
    if spec.blocked_by:
        await store.check_blockers(spec, caller)
    view, _ = await store.submit(spec, state)
    count_created(request, "ricloud", spec.type)
    return render_task(view)


@router.get(
    "/tasks",
    tags=["ricloud: tasks"],
    openapi_extra={"parameters": date_parameters()},
)
async def list_tasks(
    request: Request,
    caller: Caller,
    store: StoreDep,
    key: Annotated[str | None, Query(description="Filter by the associated key")] = None,
    user: Annotated[str | None, Query(description="Filter by the associated user")] = None,
    source: Annotated[str | None, Query(description="Filter by the targeted source")] = None,
    session: Annotated[str | None, Query(description="Filter by the session used")] = None,
    poll: Annotated[str | None, Query(description="Filter by the owning poll")] = None,
    source_type: Annotated[str | None, Query(description="Filter by the source type")] = None,
    task_type: Annotated[str | None, Query(alias="type", description="Filter by type")] = None,
    state: Annotated[RicloudState | None, Query(description="Filter by the task state")] = None,
    limit: Limit = 10,
    after_id: Annotated[str | None, Query(description="Tasks older than this one")] = None,
    before_id: Annotated[str | None, Query(description="Tasks newer than this one")] = None,
) -> dict[str, Any]:
    """List your tasks, newest first, filtered by every parameter given; `date_created`,
    `date_started` and `date_completed` also take `[gt]`, `[gte]`, `[lt]` and `[lte]`."""
    if after_id is not None and before_id is not None:
        raise InvalidRequest(
            "give after_id or before_id, not both", field="before_id", location="query"
        )
    labels = {
        "key": key,
        "user": user,
        "source": source,
        "session": session,
        "poll": poll,
        "source_type": source_type,
    }
    clauses = filter_clauses(labels, task_type, state)
    clauses += date_clauses(request.query_params.multi_items())
    clauses += visible_to(caller.client_accounts, caller.projects)
    page = await store.list_newest(
        caller.organisation,
        clauses,
        limit=limit,
        after=await _cursor(store, caller, "after_id", after_id),
        before=await _cursor(store, caller, "before_id", before_id),
    )
    tasks = [render_task(view) for view in page.tasks]
    return list_object(tasks, "/tasks", page.total, page.has_more)


@router.get("/tasks/{task_id}", tags=["ricloud: tasks"])
async def get_task(task_id: str, caller: Caller, store: StoreDep) -> dict[str, Any]:
    """Retrieve a task."""
    return render_task(await _find_task(store, caller, task_id))


@router.get("/tasks/{task_id}/results", tags=["ricloud: tasks"])
async def list_task_results(task_id: str, caller: Caller, store: StoreDep) -> dict[str, Any]:
    """The results a task has published, as a list object."""
    view = await _find_task(store, caller, task_id)
    data = [render_result(r) for r in results_of(view)]
    return list_object(data, f"{task_url(view)}/results", len(data), False)


@router.get("/results", tags=["ricloud: results"])
async def list_results(
    caller: Caller,
    results: ResultsDep,
    task: Annotated[str | None, Query(description="Results of this task")] = None,
    state: Annotated[ResultState | None, Query(description="Filter by result state")] = None,
    limit: Limit = 10,
) -> dict[str, Any]:
    """List your results, newest task first."""
    task_id = None
    if task is not None:
        task_id = parse_task_id(task)
        if task_id is None:
            raise InvalidRequest(
                f"task: {task[:80]!r} is not a task id", field="task", location="query"
            )
    scope = visible_to(caller.client_accounts, caller.projects)
    found = await results.list(caller.organisation, task_id=task_id, state=state, scope=scope)
    data = [render_result(r) for r in found[:limit]]
    return list_object(data, "/results", len(found), len(found) > limit)


@router.get("/results/{result_id}", tags=["ricloud: results"])
async def get_result(result_id: str, caller: Caller, results: ResultsDep) -> dict[str, Any]:
    """Retrieve a result."""
    return render_result(await _find_result(results, caller, result_id))


@router.post("/results/{result_id}/ack", tags=["ricloud: results"])
async def ack_result(result_id: str, caller: Caller, results: ResultsDep) -> dict[str, Any]:
    """Acknowledge a result: `available` becomes `consumed` (again: no change); 410 once
    it has expired."""
    result = await _find_result(results, caller, result_id)
    if result.state == ResultState.EXPIRED:
        raise Gone(f"result {result.info.id} has expired")
    if result.state == ResultState.AVAILABLE:
        info = await results.ack(result)
        result = dataclasses.replace(result, info=info, state=ResultState.CONSUMED)
    return render_result(result)


@router.get(
    "/results/{result_id}/data",
    tags=["ricloud: results"],
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
async def get_result_data(result_id: str, caller: Caller, results: ResultsDep) -> Response:
    """The result's bytes with their stored Content-Type; 410 once it has expired."""
    result = await _find_result(results, caller, result_id)
    data = await results.data(result)
    # Set as a header rather than a media type, so Starlette adds no charset of its own.
    return Response(data, headers={"Content-Type": result.info.content_type})


async def _find_task(store: TaskStore, caller: ApiKey, text: str) -> TaskView:
    task_id = parse_task_id(text)
    view = await store.get(caller, task_id) if task_id else None
    if view is None:
        raise NotFound(f"no task {text[:80]}")
    return view


async def _find_result(results: ResultStore, caller: ApiKey, text: str) -> ResultView:
    try:
        result_id = str(uuid.UUID(text))
    except ValueError:
        result_id = None
    found = await results.find(caller.organisation, result_id) if result_id else None
    if found is None or not caller.may_see(found.task.spec):
        raise NotFound(f"no result {text[:80]}")
    return found


async def _cursor(store: TaskStore, caller: ApiKey, name: str, text: str | None) -> Cursor | None:
    """Where a page starts: a task of the caller's, named by after_id or before_id."""
    if text is None:
        return None
    task_id = parse_task_id(text)
    view = await store.get(caller, task_id) if task_id else None
    if view is None:
        raise InvalidRequest(f"{name}: no task {text[:80]!r}", field=name, location="query")
    return Cursor(created_at=view.spec.created_at, task_id=view.spec.task_id)
