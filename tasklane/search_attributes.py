"""Custom search attributes: what lists filter on, in the API and in the Web UI alike.

SQL visibility (the dev server's SQLite, PostgreSQL in production) offers a fixed number of
columns per type (10 Keyword, 3 KeywordList, 3 Datetime, 3 Int), so exact-match labels that
only some dialects use (user, key, source, session, poll, client account, project, ...) are
packed into one KeywordList as `name:value` strings instead of taking a column each.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from temporalio.common import SearchAttributeKey

if TYPE_CHECKING:
    from tasklane.model import ResultInfo, TaskSpec

TASK_STATUS = SearchAttributeKey.for_keyword("TaskStatus")
TASK_ORG = SearchAttributeKey.for_keyword("TaskOrg")
TASK_TYPE = SearchAttributeKey.for_keyword("TaskType")
TASK_PARENT_ID = SearchAttributeKey.for_keyword("TaskParentId")
TASK_TAGS = SearchAttributeKey.for_keyword_list("TaskTags")
TASK_LABELS = SearchAttributeKey.for_keyword_list("TaskLabels")
TASK_STARTED_AT = SearchAttributeKey.for_datetime("TaskStartedAt")
TASK_COMPLETED_AT = SearchAttributeKey.for_datetime("TaskCompletedAt")
TASK_CREATED_AT = SearchAttributeKey.for_datetime("TaskCreatedAt")
# The same three moments as Unix milliseconds, for range and equality filters: SQLite
# visibility compares Datetime attributes as text, and a stored value drops the trailing
# zeros that the query's literal keeps, so `=` never matches and ties order wrongly.
TASK_CREATED_MS = SearchAttributeKey.for_float("TaskCreatedMs")
TASK_STARTED_MS = SearchAttributeKey.for_float("TaskStartedMs")
TASK_COMPLETED_MS = SearchAttributeKey.for_float("TaskCompletedMs")
TASK_ATTEMPTS = SearchAttributeKey.for_int("TaskAttempts")

ALL: list[SearchAttributeKey[Any]] = [
    TASK_STATUS,
    TASK_ORG,
    TASK_TYPE,
    TASK_PARENT_ID,
    TASK_TAGS,
    TASK_LABELS,
    TASK_STARTED_AT,
    TASK_COMPLETED_AT,
    TASK_CREATED_AT,
    TASK_CREATED_MS,
    TASK_STARTED_MS,
    TASK_COMPLETED_MS,
    TASK_ATTEMPTS,
]

# The scope fields packed into TaskLabels, by label name.
SCOPE_LABELS = ("client_account", "project", "source", "session", "poll", "source_type")
HAS_RESULTS = "has:results"
LIMITING_SCOPES = ("client_account", "project")
NO_SCOPE = "-"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def label(name: str, value: object) -> str:
    """One packed exact-match label, e.g. `user:42`."""
    return f"{name}:{value}"


def epoch_ms(moment: datetime) -> float:
    """Unix milliseconds with the microseconds as a fraction (exact in a float64)."""
    return (moment - EPOCH) / timedelta(milliseconds=1)


def task_labels(spec: TaskSpec, results: list[ResultInfo] | None = None) -> list[str]:
    """Every exact-match label of a task: who created it, its scope, its results."""
    labels = [label("key", spec.key_id)]
    if spec.user:
        labels.append(label("user", spec.user))
    if spec.unique_id:
        labels.append(label("unique_id", spec.unique_id[:200]))
    for name in SCOPE_LABELS:
        value = getattr(spec.scope, name)
        if value is not None:
            labels.append(label(name, value))
        elif name in LIMITING_SCOPES:
            # Keys limited to some accounts or projects still see tasks of none: this marker
            # lets one IN clause say "one of mine, or none at all".
            labels.append(label(name, NO_SCOPE))
    if results:
        labels.append(HAS_RESULTS)
        labels += [label("result", r.id) for r in results]
    return labels


def dev_server_flags() -> list[str]:
    """`temporal server start-dev` arguments that register every attribute."""
    flags: list[str] = []
    for key in ALL:
        flags += ["--search-attribute", f"{key.name}={_cli_type(key)}"]
    return flags


def _cli_type(key: SearchAttributeKey[Any]) -> str:
    names = {
        "KEYWORD": "Keyword",
        "KEYWORD_LIST": "KeywordList",
        "DATETIME": "Datetime",
        "INT": "Int",
        "DOUBLE": "Double",
    }
    return names[key.indexed_value_type.name]
