"""Request dependencies: the process settings, the Temporal-backed task store, the caller's key."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.errors import Unauthorized
from tasklane.config import ApiKey, Settings
from tasklane.result_store import ResultStore
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


def taskhook_key(request: Request) -> ApiKey:
    """`Authorization: Bearer <token>` or `?api_key=<token>` (the Taskhook forms)."""
    settings = get_settings(request)
    token = _token_from(request, ("bearer",), query_param=True)
    key = settings.tasklane.authenticate(token) if token else None
    if key is None:
        raise Unauthorized(
            "missing or invalid API key: send `Authorization: Bearer <token>` or ?api_key=",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return key


def ricloud_key(request: Request) -> ApiKey:
    """`Authorization: Token <token>` (the ricloud form; Bearer is refused here)."""
    token = _token_from(request, ("token",), query_param=False)
    key = get_settings(request).tasklane.authenticate(token) if token else None
    if key is None:
        raise Unauthorized(
            "missing or invalid API key: send `Authorization: Token <token>`",
            headers={"WWW-Authenticate": "Token"},
        )
    return key


def bearer_key(request: Request) -> ApiKey:
    """`Authorization: Bearer <token>` (Metavault, System tasks)."""
    token = _token_from(request, ("bearer",), query_param=False)
    key = get_settings(request).tasklane.authenticate(token) if token else None
    if key is None:
        raise Unauthorized(
            "missing or invalid API key: send `Authorization: Bearer <token>`",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return key


def get_results(request: Request) -> ResultStore:
    return request.app.state.results  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[TaskStore, Depends(get_store)]
ResultsDep = Annotated[ResultStore, Depends(get_results)]
TaskhookKey = Annotated[ApiKey, Depends(taskhook_key)]
RicloudKey = Annotated[ApiKey, Depends(ricloud_key)]
BearerKey = Annotated[ApiKey, Depends(bearer_key)]
