"""Request dependencies: the process settings, the Temporal-backed task store, the caller's key."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.errors import Unauthorized
from tasklane.config import ApiKey, Settings
from tasklane.group_store import GroupStore
from tasklane.result_store import ResultStore
from tasklane.running_view import EventBus, RunningView
from tasklane.task_store import TaskStore


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def get_store(request: Request) -> TaskStore:
    return request.app.state.store  # type: ignore[no-any-return]


def _token_from(request: Request, schemes: tuple[str, ...], query_param: bool) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() in schemes and token.strip():
            return token.strip()
        return None
    if query_param:
        return request.query_params.get("api_key") or None
    return None


def _authenticated(request: Request, schemes: tuple[str, ...], query_param: bool) -> ApiKey:
    token = _token_from(request, schemes, query_param)
    key = get_settings(request).tasklane.authenticate(token) if token else None
    if key is None:
        scheme = schemes[0].capitalize()
        also = " or ?api_key=" if query_param else ""
        raise Unauthorized(
            f"missing or invalid API key: send `Authorization: {scheme} <token>`{also}",
            headers={"WWW-Authenticate": scheme},
        )
    return key


def taskhook_key(request: Request) -> ApiKey:
    """`Authorization: Bearer <token>` or `?api_key=<token>` (the Taskhook forms)."""
    return _authenticated(request, ("bearer",), query_param=True)


def ricloud_key(request: Request) -> ApiKey:
    """`Authorization: Token <token>` (the ricloud form; Bearer is refused here)."""
    return _authenticated(request, ("token",), query_param=False)


def bearer_key(request: Request) -> ApiKey:
    """`Authorization: Bearer <token>` (Metavault, System tasks)."""
    return _authenticated(request, ("bearer",), query_param=False)


def get_groups(request: Request) -> GroupStore:
    return request.app.state.groups  # type: ignore[no-any-return]


def get_results(request: Request) -> ResultStore:
    return request.app.state.results  # type: ignore[no-any-return]


def get_view(request: Request) -> RunningView:
    return request.app.state.view  # type: ignore[no-any-return]


def get_events(request: Request) -> EventBus:
    return request.app.state.events  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(get_settings)]
ViewDep = Annotated[RunningView, Depends(get_view)]
EventsDep = Annotated[EventBus, Depends(get_events)]
StoreDep = Annotated[TaskStore, Depends(get_store)]
GroupsDep = Annotated[GroupStore, Depends(get_groups)]
ResultsDep = Annotated[ResultStore, Depends(get_results)]
TaskhookKey = Annotated[ApiKey, Depends(taskhook_key)]
RicloudKey = Annotated[ApiKey, Depends(ricloud_key)]
BearerKey = Annotated[ApiKey, Depends(bearer_key)]
