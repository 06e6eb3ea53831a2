"""The `/v1/url-groups` bodies, checked against the limits before the registry sees them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from api.errors import InvalidRequest, Unprocessable
from api.schemas.taskhook import check_url
from tasklane.config import Limits
from tasklane.url_groups import NAME_PATTERN, GroupChange, NewGroup


class CreateGroup(BaseModel):
    """`POST /v1/url-groups` body."""

    name: str = Field(description="unique in the organisation; a task targets `group:<name>`")
    urls: list[str] = Field(description="the URLs a group task calls, one child task each")
    description: str | None = None

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "invoice-processors",
                    "urls": ["https://a.example.com/process", "https://b.example.com/process"],
                    "description": "every service that processes invoices",
                }
            ]
        },
    )


class PatchGroup(BaseModel):
    """`PATCH /v1/url-groups/{id}` body: the fields to change."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    urls: list[str] | None = None
    description: str | None = None


def new_group(body: CreateGroup, limits: Limits, *, allow_private: bool) -> NewGroup:
    return NewGroup(
        name=_name(body.name),
        urls=_urls(body.urls, limits, allow_private),
        description=_description(body.description, limits),
        max_groups=limits.max_url_groups,
    )


def group_change(
    group_id: str, body: PatchGroup, limits: Limits, *, allow_private: bool
) -> GroupChange:
    sent = body.model_fields_set
    if not sent:
        raise InvalidRequest("send at least one of name, urls, description", field="body")
    if "name" in sent and body.name is None:
        raise InvalidRequest("name cannot be null", field="name")
    if "urls" in sent and body.urls is None:
        raise InvalidRequest("urls cannot be null", field="urls")
    return GroupChange(
        group_id=group_id,
        name=_name(body.name) if body.name is not None else None,
        urls=_urls(body.urls, limits, allow_private) if body.urls is not None else None,
        description=_description(body.description, limits),
        set_description="description" in sent,
    )


def _name(name: str) -> str:
    if not NAME_PATTERN.fullmatch(name):
        raise InvalidRequest(
            "name must be 1 to 64 letters, digits, '_', '.' or '-', starting with a letter "
            "or digit",
            field="name",
        )
    return name


def _urls(urls: list[str], limits: Limits, allow_private: bool) -> list[str]:
    if not urls:
        raise InvalidRequest("urls must hold at least one URL", field="urls")
    if len(urls) > limits.max_group_urls:
        raise Unprocessable(
            f"urls holds {len(urls)} URLs; a group holds at most {limits.max_group_urls}",
            field="urls",
        )
    checked = [check_url(f"urls[{i}]", url, limits, allow_private) for i, url in enumerate(urls)]
    if len(set(checked)) != len(checked):
        raise InvalidRequest("urls holds the same URL twice", field="urls")
    return checked


def _description(description: str | None, limits: Limits) -> str | None:
    if description is not None and len(description) > limits.max_group_description:
        raise Unprocessable(
            f"description is longer than {limits.max_group_description} characters",
            field="description",
        )
    return description or None
