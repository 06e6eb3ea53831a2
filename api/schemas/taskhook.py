"""The Taskhook submit body, and its translation into a canonical task spec."""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from api.errors import InvalidRequest, Unprocessable
from api.schemas.common import blocker_ids, check_payload
from tasklane.config import ApiKey, Limits
from tasklane.model import (
    GROUP_EVENTS,
    TASK_EVENTS,
    HttpTarget,
    NotificationEndpoint,
    RetryPolicy,
    TaskSpec,
    TaskState,
    initial_state,
)
from tasklane.netguard import PrivateAddressError, check_url_literal
from tasklane.times import iso, parse_duration, parse_when
from tasklane.url_groups import NAME_PATTERN, group_name_of

METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
TAG_PATTERN = re.compile(r"^[A-Za-z0-9_.:/@+\- ]+$")
TASK_ID_PATTERN = re.compile(r"^task_[0-9a-f]{32}$")
URL_CHARACTERS = re.compile(r"[\x21-\x7e]+")


class _Strict(BaseModel):
    # NaN and Infinity are valid to Python's JSON parser, and would crash timers downstream.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class TargetIn(_Strict):
    url: str
    method: str = "POST"
    headers: dict[str, str] = Field(default_factory=dict)


class NotificationIn(_Strict):
    url: str
    method: str = "POST"
    headers: dict[str, str] = Field(default_factory=dict)
    events: list[str] | None = None


class RetryIn(_Strict):
    max_attempts: int = Field(25, ge=1)
    backoff: Literal["taskhook", "exponential", "fixed"] = "taskhook"
    initial_delay: float = Field(1.0, ge=0, description="seconds (exponential and fixed)")
    max_delay: float | None = Field(None, ge=0, description="seconds; no cap when absent")


class SubmitTask(_Strict):
    """`POST /v1/tasks` body."""

    # The seed's examples: a URL target with notifications, and a group target.
    model_config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,
        json_schema_extra={
            "examples": [
                {
                    "target": "https://api.example.com/process",
                    "notifications": {
                        "url": "https://api.example.com/status",
                        "events": ["task.completed", "task.failed"],
                    },
                    "execute_after": "2024-02-01T13:00:00Z",
                    "expires_after": "PT1H",
                    "payload": {"key1": "value1"},
                    "unique_id": "order-123",
                    "tags": ["orders"],
                },
                {"target": "group:invoice-processors", "payload": {"invoice": 7}},
            ]
        },
    )

    target: str | TargetIn
    notifications: str | NotificationIn | list[str | NotificationIn] | None = None
    execute_after: str | None = None
    expires_after: str | None = None
    payload: Any = None
    unique_id: str | None = Field(None, min_length=1)
    tags: str | list[str] | None = None
    retry: RetryIn | None = None
    timeout: float | str | None = Field(None, description="seconds, or an ISO 8601 duration")
    blocked_by: list[str] | None = Field(
        None, description="ids of tasks that must all complete before this one runs"
    )


def task_id_for(organisation: str, unique_id: str | None) -> str:
    """Random, or derived from the unique_id so that Temporal enforces uniqueness."""
    if unique_id is None:
        return f"task_{uuid.uuid4().hex}"
    digest = hashlib.sha256(f"{organisation}\x00{unique_id}".encode()).hexdigest()
    return f"task_{digest[:32]}"


def build_task(
    body: SubmitTask, key: ApiKey, limits: Limits, *, allow_private: bool, now: datetime
) -> tuple[TaskSpec, TaskState]:
    """Check every field against the limits and build the canonical task."""
    target = _target(body.target, limits, allow_private)
    notifications = _notifications(body.notifications, limits, allow_private)
    execute_after = now
    if body.execute_after is not None:
        execute_after = max(now, _when("execute_after", body.execute_after, now))
        if (execute_after - now).total_seconds() > limits.max_delay_s:
            raise Unprocessable(
                f"execute_after is more than {limits.max_delay_s:g} s ahead", field="execute_after"
            )
    expires_at = None
    if body.expires_after is not None:
        expires_at = _when("expires_after", body.expires_after, now)
        if (expires_at - now).total_seconds() > limits.max_delay_s:
            raise Unprocessable(
                f"expires_after is more than {limits.max_delay_s:g} s ahead", field="expires_after"
            )
        if expires_at <= execute_after:
            raise InvalidRequest(
                f"expires_after ({iso(expires_at)}) must be after execute_after "
                f"({iso(execute_after)})",
                details=[
                    {"field": "expires_after", "message": f"resolves to {iso(expires_at)}"},
                    {"field": "execute_after", "message": f"resolves to {iso(execute_after)}"},
                ],
            )
    payload_bytes = check_payload(body.payload, limits.max_payload_bytes)
    if body.unique_id and len(body.unique_id) > limits.max_unique_id_length:
        raise Unprocessable(
            f"unique_id is longer than {limits.max_unique_id_length} characters", field="unique_id"
        )
    spec = TaskSpec(
        task_id=task_id_for(key.organisation, body.unique_id),
        organisation=key.organisation,
        key_id=key.key_id,
        user=key.user,
        created_at=now,
        execute_after=execute_after,
        expires_at=expires_at,
        target=target,
        payload=body.payload,
        notifications=notifications,
        tags=_tags(body.tags, limits),
        unique_id=body.unique_id,
        retry=_retry(body.retry, limits),
        timeout_s=_timeout(body.timeout, limits),
        blocked_by=blocker_ids(body.blocked_by, limits),
    )
    _check_history_budget(spec, payload_bytes, limits)
    return spec, initial_state(spec, now)


def check_task_id(task_id: str) -> bool:
    return bool(TASK_ID_PATTERN.fullmatch(task_id))


def _when(field: str, text: str, now: datetime) -> datetime:
    try:
        return parse_when(text, now)
    except ValueError as e:
        raise InvalidRequest(f"{field} {e}", field=field) from None


def check_url(field: str, url: str, limits: Limits, allow_private: bool) -> str:
    if len(url) > limits.max_url_length:
        raise Unprocessable(
            f"{field} is longer than {limits.max_url_length} characters", field=field
        )
    if not URL_CHARACTERS.fullmatch(url):
        # urlsplit would quietly drop some of these (a leading space, tabs, newlines) while
        # the raw string is stored and later called; and non-ASCII grows sixfold in JSON.
        raise InvalidRequest(
            f"{field} must be printable ASCII without spaces: percent-encode other "
            "characters, and write international host names in punycode",
            field=field,
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequest(f"{field} must be an absolute http or https URL", field=field)
    if not allow_private:
        try:
            check_url_literal(url)
        except PrivateAddressError as e:
            raise Unprocessable(
                f"{field} points at a private address ({e}); private targets are not allowed",
                field=field,
                code="private_target",
            ) from None
    return url


def _method(field: str, method: str) -> str:
    method = method.upper()
    if method not in METHODS:
        raise InvalidRequest(f"{field} must be one of {', '.join(sorted(METHODS))}", field=field)
    return method


def _headers(field: str, headers: dict[str, str], limits: Limits) -> dict[str, str]:
    size = sum(len(k) + len(v) for k, v in headers.items())
    if len(headers) > limits.max_headers or size > limits.max_header_bytes:
        raise Unprocessable(
            f"{field} exceeds {limits.max_headers} headers or {limits.max_header_bytes} bytes",
            field=field,
        )
    for name in headers:
        if not re.match(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$", name):
            raise InvalidRequest(f"{field} has an invalid header name {name!r}", field=field)
    return headers


def _target(raw: str | TargetIn, limits: Limits, allow_private: bool) -> HttpTarget:
    """A URL, or `group:<name>` (a URL group, resolved when the task is due), as a string or
    as the object form's `url`, whose method and headers then go to every URL of the group."""
    if isinstance(raw, str):
        raw = TargetIn(url=raw)
    group = group_name_of(raw.url)
    if group is not None and not NAME_PATTERN.fullmatch(group):
        raise InvalidRequest(
            f"target names the group {group!r}, which is not a valid group name", field="target"
        )
    url = raw.url if group is not None else check_url("target.url", raw.url, limits, allow_private)
    return HttpTarget(
        url=url,
        method=_method("target.method", raw.method),
        headers=_headers("target.headers", raw.headers, limits),
    )


def _notifications(
    raw: str | NotificationIn | list[str | NotificationIn] | None,
    limits: Limits,
    allow_private: bool,
) -> list[NotificationEndpoint]:
    if raw is None:
        return []
    items = raw if isinstance(raw, list) else [raw]
    if len(items) > limits.max_notifications:
        raise Unprocessable(
            f"notifications has more than {limits.max_notifications} endpoints",
            field="notifications",
        )
    endpoints = []
    for index, item in enumerate(items):
        field = f"notifications[{index}]" if isinstance(raw, list) else "notifications"
        if isinstance(item, str):
            item = NotificationIn(url=item)
        if item.events is not None:
            unknown = sorted(set(item.events) - TASK_EVENTS - GROUP_EVENTS)
            if unknown:
                raise InvalidRequest(
                    f"{field}.events has unknown events {unknown}", field=f"{field}.events"
                )
        endpoints.append(
            NotificationEndpoint(
                url=check_url(f"{field}.url", item.url, limits, allow_private),
                method=_method(f"{field}.method", item.method),
                headers=_headers(f"{field}.headers", item.headers, limits),
                events=item.events,
            )
        )
    return endpoints


def _tags(raw: str | list[str] | None, limits: Limits) -> list[str]:
    tags = [raw] if isinstance(raw, str) else list(raw or [])
    if len(tags) > limits.max_tags:
        raise Unprocessable(f"tags has more than {limits.max_tags} tags", field="tags")
    for tag in tags:
        if len(tag) > limits.max_tag_length:
            raise Unprocessable(
                f"tag {tag[:20]!r}... is longer than {limits.max_tag_length}", field="tags"
            )
        if not TAG_PATTERN.fullmatch(tag):
            raise InvalidRequest(
                f"tag {tag!r} may hold only letters, digits, spaces and _.:/@+-", field="tags"
            )
    return list(dict.fromkeys(tags))


def _retry(raw: RetryIn | None, limits: Limits) -> RetryPolicy:
    if raw is None:
        return RetryPolicy()
    if raw.max_attempts > limits.max_attempts:
        raise Unprocessable(
            f"retry.max_attempts is above {limits.max_attempts}", field="retry.max_attempts"
        )
    for name in ("initial_delay", "max_delay"):
        value = getattr(raw, name)
        if value is not None and value > limits.max_delay_s:
            raise Unprocessable(
                f"retry.{name} is above {limits.max_delay_s:g} s", field=f"retry.{name}"
            )
    return RetryPolicy(raw.max_attempts, raw.backoff, raw.initial_delay, raw.max_delay)


def _timeout(raw: float | str | None, limits: Limits) -> float:
    if raw is None:
        return 30.0
    if isinstance(raw, str):
        try:
            seconds = parse_duration(raw).total_seconds()
        except ValueError as e:
            raise InvalidRequest(f"timeout {e}", field="timeout") from None
    else:
        seconds = float(raw)
    if seconds <= 0:
        raise InvalidRequest("timeout must be positive", field="timeout")
    if seconds > limits.max_timeout_s:
        raise Unprocessable(f"timeout is above {limits.max_timeout_s:g} s", field="timeout")
    return seconds


def _check_history_budget(spec: TaskSpec, payload_bytes: int, limits: Limits) -> None:
    """Refuse a task whose worst case (every attempt, every event) would overflow history."""
    attempts = spec.retry.max_attempts
    copies = attempts + sum(
        (attempts if endpoint.wants("task.processing") else 0) + 3
        for endpoint in spec.notifications
    )
    what = f"sent with up to {attempts} attempts and {copies - attempts} notifications"
    if spec.group_name is not None:
        # Each child's history is bounded as above. The group task's holds each child's
        # start (input and memo, both with the payload) and an event per child that ends
        # cancelled or expired, for every endpoint that wants those.
        children = limits.max_group_urls
        per_child = ("group.task_cancelled", "group.task_expired")
        group_copies = 2 * children + sum(
            (children if any(endpoint.wants(e) for e in per_child) else 0) + 6
            for endpoint in spec.notifications
        )
        if group_copies > copies:
            copies = group_copies
            what = f"copied into the start and the events of up to {children} group children"
    worst = payload_bytes * copies
    if worst > limits.max_task_history_bytes:
        raise Unprocessable(
            f"payload of {payload_bytes} bytes, {what}, could reach {worst} bytes of task "
            f"history; the limit is {limits.max_task_history_bytes}: send a smaller payload, "
            "fewer attempts or fewer notification events",
            field="payload",
        )
