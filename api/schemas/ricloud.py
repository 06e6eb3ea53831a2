"""The ricloud create body and list filters, and their translation into canonical terms."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.errors import Forbidden, InvalidRequest
from api.render.ricloud import STATES, RicloudState
from api.schemas.common import blocker_ids, check_payload, registered_type
from tasklane import search_attributes as sa
from tasklane.config import ApiKey, TasklaneConfig
from tasklane.model import TaskScope, TaskSpec, TaskState
from tasklane.times import parse_timestamp
from tasklane.typed_tasks import new_typed_task
from tasklane.visibility import compare, labelled, quote, status_in

# Labels become search attribute values, which Temporal caps at 2 KB each, and appear in
# visibility queries, where a control character is a syntax error.
PRINTABLE = re.compile(r"^[^\x00-\x1f\x7f]*$")
LABEL = Field(None, min_length=1, max_length=256, pattern=PRINTABLE.pattern)


class CreateTask(BaseModel):
    """`POST /tasks` body."""

    # A typo such as `blocked_bye` must not silently create an unblocked task. The example is
    # the seed's sample task, as a create.
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "type": "info",
                    "source": "1",
                    "session": "00000002-1234-1234-1234-9876543210",
                    "poll": "00000003-1234-1234-1234-9876543210",
                    "source_type": "mocks.mock",
                }
            ]
        },
    )

    type: str = Field(min_length=1, max_length=100, description="a registered task type")
    target: str | None = Field(
        None, max_length=1000, description="the highest-level argument, e.g. messages.sms"
    )
    payload: Any = None
    user: str | None = Field(
        None, min_length=1, max_length=256, description="only for a key without a user"
    )
    source: str | None = LABEL
    session: str | None = LABEL
    poll: str | None = LABEL
    source_type: str | None = LABEL
    client_account_id: int | None = Field(None, strict=True)
    project_id: str | None = LABEL
    blocked_by: list[str] | None = Field(
        None, description="ids of tasks that must all succeed before this one runs"
    )


def build_task(
    body: CreateTask, key: ApiKey, config: TasklaneConfig, now: datetime
) -> tuple[TaskSpec, TaskState]:
    """The canonical task for a create body, within what the key may do."""
    task_type = registered_type(config.types, body.type, "type")
    _check_scope(body, key)
    check_payload(body.payload, config.limits.max_payload_bytes)
    scope = TaskScope(
        client_account=body.client_account_id,
        project=body.project_id,
        source=body.source,
        session=body.session,
        poll=body.poll,
        source_type=body.source_type,
        subject=body.target,
    )
    return new_typed_task(
        task_type,
        organisation=key.organisation,
        key_id=key.key_id,
        now=now,
        user=key.user or body.user,
        scope=scope,
        payload=body.payload,
        blocked_by=blocker_ids(body.blocked_by, config.limits),
    )


def _check_scope(body: CreateTask, key: ApiKey) -> None:
    if key.user is not None and body.user not in (None, key.user):
        raise Forbidden("this key acts for its own user only", field="user", code="missing-scope")
    accounts, projects = key.client_accounts, key.projects
    if body.client_account_id is not None and accounts is not None:
        if body.client_account_id not in accounts:
            raise Forbidden(
                f"this key has no access to client account {body.client_account_id}",
                field="client_account_id",
                code="missing-scope",
            )
    if body.project_id is not None and projects is not None and body.project_id not in projects:
        raise Forbidden(
            f"this key has no access to project {body.project_id}",
            field="project_id",
            code="missing-scope",
        )


# Which canonical statuses each ricloud state stands for.
STATUSES = {
    state: frozenset(status for status, shown in STATES.items() if shown == state)
    for state in RicloudState
}
DATE_FILTERS = {
    "date_created": sa.TASK_CREATED_MS.name,
    "date_started": sa.TASK_STARTED_MS.name,
    "date_completed": sa.TASK_COMPLETED_MS.name,
}
DATE_OPERATORS = ("gt", "gte", "lt", "lte")


def filter_clauses(
    labels: Mapping[str, str | None], task_type: str | None, state: RicloudState | None
) -> list[str]:
    """Visibility clauses for the exact-match filters."""
    for name, value in [*labels.items(), ("type", task_type)]:
        if value is not None and not PRINTABLE.fullmatch(value):
            raise InvalidRequest(f"{name} holds control characters", field=name, location="query")
    clauses = [labelled(name, value) for name, value in labels.items() if value is not None]
    if task_type is not None:
        clauses.append(f"{sa.TASK_TYPE.name} = {quote(task_type)}")
    if state is not None:
        clauses.append(status_in(STATUSES[state]))
    return clauses


def date_clauses(query: Iterable[tuple[str, str]]) -> list[str]:
    """Clauses for `date_*` and `date_*[op]`; a bad value or operator is a 400 naming it."""
    clauses = []
    for parameter, value in query:
        name, bracket, rest = parameter.partition("[")
        if name not in DATE_FILTERS:
            continue
        op = rest.removesuffix("]") if bracket else "eq"
        if bracket and (not rest.endswith("]") or op not in DATE_OPERATORS):
            raise InvalidRequest(
                f"{parameter}: the operator must be one of {', '.join(DATE_OPERATORS)}",
                field=parameter,
                location="query",
            )
        try:
            moment = parse_timestamp(value).astimezone(UTC)
        except (ValueError, OverflowError):
            raise InvalidRequest(
                f"{parameter}: {value[:60]!r} is not an ISO 8601 datetime",
                field=parameter,
                location="query",
            ) from None
        clauses.append(compare(DATE_FILTERS[name], op, moment))
    return clauses


def date_parameters() -> list[dict[str, Any]]:
    """The bracketed date filters, for the OpenAPI document (FastAPI cannot declare them)."""
    described = {"": "equal to", "[gt]": "after", "[gte]": "at or after"}
    described |= {"[lt]": "before", "[lte]": "at or before"}
    return [
        {
            "name": f"{name}{suffix}",
            "in": "query",
            "required": False,
            "schema": {"type": "string", "format": "date-time"},
            "description": f"Tasks whose {name} is {words} this ISO 8601 datetime",
        }
        for name in DATE_FILTERS
        for suffix, words in described.items()
    ]
