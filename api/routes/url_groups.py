"""Taskhook URL groups: `/v1/url-groups`, one registry workflow per organisation."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from api.bodies import parse_body
from api.deps import GroupsDep, SettingsDep, TaskhookKey
from api.errors import NotFound
from api.openapi import json_body
from api.schemas.url_groups import CreateGroup, PatchGroup, group_change, new_group
from tasklane.times import iso
from tasklane.url_groups import UrlGroup

router = APIRouter(prefix="/v1", tags=["Taskhook: URL groups"])
GROUP_ID = re.compile(r"^ug_[0-9a-f]{32}$")


@router.post("/url-groups", status_code=201, openapi_extra=json_body(CreateGroup))
async def create_group(
    request: Request, key: TaskhookKey, settings: SettingsDep, groups: GroupsDep
) -> JSONResponse:
    """Create a group; 409 when the organisation already has one of that name."""
    config = settings.tasklane
    body = await parse_body(request, CreateGroup, config.limits.max_body_bytes)
    new = new_group(body, config.limits, allow_private=config.allow_private_targets)
    group = await groups.create(key.organisation, new)
    return JSONResponse(render_group(group), status_code=201)


@router.get("/url-groups")
async def list_groups(
    key: TaskhookKey,
    groups: GroupsDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """Your groups, oldest first: `{"total": N, "url_groups": [...]}`."""
    found = await groups.all(key.organisation)
    page = found[offset : offset + limit]
    return {"total": len(found), "url_groups": [render_group(g) for g in page]}


@router.get("/url-groups/{group_id}")
async def get_group(group_id: str, key: TaskhookKey, groups: GroupsDep) -> dict[str, Any]:
    _check_id(group_id)
    group = await groups.get(key.organisation, group_id)
    if group is None:
        raise NotFound(f"no URL group {group_id}")
    return render_group(group)


@router.patch("/url-groups/{group_id}", openapi_extra=json_body(PatchGroup))
async def patch_group(
    group_id: str, request: Request, key: TaskhookKey, settings: SettingsDep, groups: GroupsDep
) -> dict[str, Any]:
    """Change a group's name, URLs or description. Tasks that have not fanned out yet use
    the group as it is when they become due."""
    _check_id(group_id)
    config = settings.tasklane
    body = await parse_body(request, PatchGroup, config.limits.max_body_bytes)
    change = group_change(group_id, body, config.limits, allow_private=config.allow_private_targets)
    return render_group(await groups.change(key.organisation, change))


@router.delete("/url-groups/{group_id}")
async def delete_group(group_id: str, key: TaskhookKey, groups: GroupsDep) -> dict[str, Any]:
    """Delete a group; a task that targets it and is not yet due will fail `group_not_found`."""
    _check_id(group_id)
    group = await groups.delete(key.organisation, group_id)
    return {"id": group.id, "deleted": True}


def render_group(group: UrlGroup) -> dict[str, Any]:
    return {
        "id": group.id,
        "name": group.name,
        "description": group.description,
        "urls": group.urls,
        "created_at": iso(group.created_at),
        "updated_at": iso(group.updated_at),
    }


def _check_id(group_id: str) -> None:
    if not GROUP_ID.fullmatch(group_id):
        raise NotFound(f"no URL group {group_id}")
