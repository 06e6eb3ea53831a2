"""System tasks dialect: `/api/v2/system-tasks`, called with `Authorization: Bearer <token>`.

`GET` lists the running tasks of one client account from the Redis view, `POST` starts a
task of a registered type for an account (our addition: the seed documents no create
route), and `GET /events` streams the account's `create_system_task` / `update_system_task`
events as Server-Sent Events, fed by Redis pub/sub so any API replica serves any subscriber.

Decisions the seed leaves open:
- Errors keep the Taskhook shape `{"error": {"code", "message", "details"}}`: the seed shows
  no error body, and a client of this API already parses that one.
- A key limited to some client accounts gets 403 for any other account, as the seed says
  (not 404: an account number is no secret the way a task id is).
- `client_account_id` is digits only (at most 18, so it fits Temporal's Int), given once.
- While Redis is unreachable the list and the event stream answer 503 rather than falling
  back to Temporal visibility: the view is a cache, no task is affected, and a slow fallback
  would hide the outage from the caller. `POST` does not touch Redis and keeps working.
- `POST` answers 201 with `id` (the task id, Taskhook form), `task_type`,
  `client_account_id`, `meta` and `status` (the Taskhook status word).
- The event stream opens with a `: connected` comment, sends `: keep-alive` every
  `KEEPALIVE_S`, and ends after a comment when its Redis subscription is lost; EventSource
  clients reconnect by themselves and then meet the 503 while the outage lasts.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from api.bodies import parse_body
from api.deps import BearerKey, EventsDep, SettingsDep, StoreDep, ViewDep
from api.errors import ApiError, Forbidden, InvalidRequest, Unavailable
from api.metrics import count_created
from api.openapi import json_body
from api.render.system_tasks import render_running, render_started
from api.schemas.common import check_payload, registered_type
from api.sse import REDIS_DOWN, event_stream
from tasklane.config import ApiKey
from tasklane.model import Status, TaskScope, TaskSpec
from tasklane.running_entries import DEFAULT_TTL_S, RunningEntry, started_at
from tasklane.running_view import RunningView
from tasklane.times import parse_duration
from tasklane.typed_tasks import new_typed_task

log = logging.getLogger("tasklane.api")

PREFIX = "/api/v2/system-tasks"
router = APIRouter(prefix=PREFIX, tags=["System tasks"])

MAX_ACCOUNT_DIGITS = 18
_ACCOUNT = re.compile(rf"[0-9]{{1,{MAX_ACCOUNT_DIGITS}}}")
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}

# The parameter is parsed by `client_account_id` below (to say exactly what is wrong with
# it), so the OpenAPI document learns of it here.
ACCOUNT_PARAMETER: dict[str, Any] = {
    "parameters": [
        {
            "name": "client_account_id",
            "in": "query",
            "required": True,
            "description": "The client account whose tasks to read.",
            "schema": {"type": "integer", "minimum": 0},
            "example": 56,
        }
    ]
}


def _error(status: int, code: str, message: str) -> dict[str, Any]:
    example = {"error": {"code": code, "message": message, "details": None}}
    return {"description": message, "content": {"application/json": {"example": example}}}


Responses = dict[int | str, dict[str, Any]]
_READ_ERRORS: Responses = {
    400: _error(400, "invalid_request", "client_account_id is required"),
    401: _error(401, "unauthorized", "missing or invalid API key"),
    403: _error(403, "forbidden", "this key has no access to client account 58"),
    503: _error(503, "view_unavailable", "the running-task view (Redis) is not reachable"),
}


class StartSystemTask(BaseModel):
    """`POST /api/v2/system-tasks` body."""

    model_config = ConfigDict(extra="forbid")

    client_account_id: int = Field(
        strict=True, ge=0, lt=10**MAX_ACCOUNT_DIGITS, description="the client account"
    )
    task_type: str = Field(
        min_length=1, max_length=100, description="a registered task type, e.g. FETCH_TAX_CARDS"
    )
    meta: dict[str, Any] = Field(
        default_factory=dict,
        description="the task's metadata, listed with it while it runs and given to its handler",
    )
    ttl: str | None = Field(
        None,
        description="ISO 8601 duration: how long the list keeps the task without a sign of "
        "life; the type's TTL when absent (for types whose TTL varies, e.g. AMELDING_SUBMIT)",
    )


def client_account_id(request: Request) -> int:
    """The `client_account_id` query parameter; 400 naming it when missing or not an integer."""
    values = request.query_params.getlist("client_account_id")
    if not values:
        raise _bad_account("client_account_id is required: the client account to read")
    if len(values) > 1:
        raise _bad_account("give client_account_id once")
    if not _ACCOUNT.fullmatch(values[0]):
        raise _bad_account(f"client_account_id must be an integer such as 56, not {values[0]!r}")
    return int(values[0])


def _bad_account(message: str) -> InvalidRequest:
    return InvalidRequest(message[:200], field="client_account_id", location="query")


AccountId = Annotated[int, Depends(client_account_id)]


def check_access(key: ApiKey, account: int, location: str) -> None:
    """403 when the key is limited to client accounts that do not include `account`."""
    if key.client_accounts is not None and account not in key.client_accounts:
        raise Forbidden(
            f"this key has no access to client account {account}",
            field="client_account_id",
            location=location,
        )


def view_unavailable(error: Exception) -> Unavailable:
    log.warning("the running-task view is unreachable: %s", error)
    return Unavailable(
        "the running-task view (Redis) is not reachable right now; retry shortly. "
        "Running tasks are not affected.",
        code="view_unavailable",
    )


async def _running(view: RunningView, key: ApiKey, account: int) -> list[dict[str, Any]]:
    try:
        entries = await view.list(account)
        # Account numbers are each organisation's own: another one's tasks are not listed.
        return [render_running(e) for e in entries if e.organisation == key.organisation]
    except REDIS_DOWN as e:
        raise view_unavailable(e) from None


@router.get(
    "",
    summary="List running tasks",
    openapi_extra=ACCOUNT_PARAMETER,
    responses=_READ_ERRORS,
)
async def list_running_tasks(key: BearerKey, account: AccountId, view: ViewDep) -> dict[str, Any]:
    """Every running task of the client account (queued, processing or waiting to retry),
    oldest first, without pagination: `task_type`, `started_at` (UTC) and `meta`.

    A completed or failed task is gone from the list at once; a task whose worker died
    leaves it when its type's TTL passes."""
    check_access(key, account, "query")
    return {"data": await _running(view, key, account)}


@router.post(
    "",
    status_code=201,
    summary="Start a system task",
    openapi_extra=json_body(StartSystemTask),
    responses={k: v for k, v in _READ_ERRORS.items() if k != 503},
)
async def start_system_task(
    request: Request, key: BearerKey, settings: SettingsDep, store: StoreDep, running: ViewDep
) -> dict[str, Any]:
    """Start a task of a registered type for a client account, on behalf of the key's user.

    201 with `id`, `task_type`, `client_account_id`, `meta` and `status`. The task appears
    in the list once it is due and sends `create_system_task`, then `update_system_task`."""
    config = settings.tasklane
    body = await parse_body(request, StartSystemTask, config.limits.max_body_bytes)
    check_access(key, body.client_account_id, "body")
    task_type = registered_type(config.types, body.task_type, "task_type")
    _check_meta(body.meta, config.limits.max_payload_bytes)
    spec, state = new_typed_task(
        task_type,
        organisation=key.organisation,
        key_id=key.key_id,
        now=datetime.now(UTC),
        user=key.user,
        scope=TaskScope(client_account=body.client_account_id),
        payload=body.meta,
    )
    if body.ttl is not None:
        spec.ttl_s = _ttl_s(body.ttl, config.limits.max_delay_s)
    # Listed before its workflow starts, so a GET right after this POST shows it, and the
    # workflow's removal at the end can only come after this write.
    listed = state.status == Status.QUEUED and await _list_at_once(running, spec, spec.ttl_s)
    try:
        view, _ = await store.submit(spec, state)
    except BaseException:
        if listed:
            await running.remove(body.client_account_id, spec.task_id)
        raise
    count_created(request, "system_tasks", spec.type)
    return render_started(view)


async def _list_at_once(running: RunningView, spec: TaskSpec, ttl_s: float | None) -> bool:
    """Put a task due now in the list; its workflow writes the same entry (and sends the
    event) a moment later. False when Redis is away (the workflow writes it anyway)."""
    account = spec.scope.client_account
    assert account is not None
    began = started_at(spec.execute_after, False, spec.created_at)
    meta = spec.payload if spec.payload is not None else {}
    entry = RunningEntry(spec.task_id, account, spec.type, began, meta, spec.organisation)
    try:
        await running.put(entry, ttl_s or DEFAULT_TTL_S)
    except REDIS_DOWN as e:
        log.warning("could not list %s at once: %s", spec.task_id, e)
        return False
    return True


def _ttl_s(text: str, limit_s: float) -> float:
    try:
        seconds = parse_duration(text).total_seconds()
    except ValueError as e:
        raise InvalidRequest(f"ttl {e}", field="ttl", location="body") from None
    if not 0 < seconds <= limit_s:
        raise InvalidRequest(
            f"ttl must be positive and at most {limit_s:g} s", field="ttl", location="body"
        )
    return seconds


def _check_meta(meta: dict[str, Any], limit: int) -> None:
    """The shared payload check, naming this dialect's field."""
    try:
        check_payload(meta, limit)
    except ApiError as e:
        e.message = e.message.replace("payload", "meta", 1)
        e.field = "meta"
        raise


EVENTS_EXAMPLE = (
    ": connected\n\n"
    "event: create_system_task\n"
    'data: {"task_id":"task_6151702ebe4d47ca8e4293638eafeab2","task_type":"FETCH_TAX_CARDS",'
    '"started_at":"2024-06-01T10:00:00+00:00","meta":{"income_year":2024}}\n\n'
    "event: update_system_task\n"
    'data: {"task_id":"task_6151702ebe4d47ca8e4293638eafeab2","status":"completed",'
    '"result_meta":{"count":5}}\n\n'
)


@router.get(
    "/events",
    summary="Stream system task events",
    response_class=StreamingResponse,
    openapi_extra=ACCOUNT_PARAMETER,
    responses={
        200: {
            "description": "Server-Sent Events, until the client disconnects.",
            "content": {"text/event-stream": {"example": EVENTS_EXAMPLE}},
        },
        **_READ_ERRORS,
    },
)
async def stream_events(
    key: BearerKey, account: AccountId, view: ViewDep, events: EventsDep
) -> StreamingResponse:
    """The client account's real-time events as Server-Sent Events (channel
    `data-events;{client_account_id}`): `create_system_task` when a task starts
    (`task_id`, `task_type`, `started_at`, `meta`) and `update_system_task` when it ends
    (`task_id`, `status` `completed` or `failed`, `result_meta`).

    A `: keep-alive` comment comes every 15 s. Events sent while no stream is open are not
    replayed: read the list after connecting to catch up."""
    check_access(key, account, "query")
    # One cheap read first, so an outage is a 503 rather than a stream that ends at once.
    await _running(view, key, account)
    return StreamingResponse(
        event_stream(events, key.organisation, account),
        media_type="text/event-stream",
        headers=SSE_HEADERS,
    )
