"""Custom search attributes: what lists filter on, in the API and in the Web UI alike.

SQL visibility (the dev server's SQLite, PostgreSQL in production) offers a fixed number of
columns per type (10 Keyword, 3 KeywordList, 3 Datetime, 3 Int), so exact-match labels that
only some dialects use (user, key, source, session, poll, client account, project, ...) are
packed into one KeywordList as `name:value` strings instead of taking a column each.
"""

from __future__ import annotations

from typing import Any

from temporalio.common import SearchAttributeKey

TASK_STATUS = SearchAttributeKey.for_keyword("TaskStatus")
TASK_ORG = SearchAttributeKey.for_keyword("TaskOrg")
TASK_TYPE = SearchAttributeKey.for_keyword("TaskType")
TASK_PARENT_ID = SearchAttributeKey.for_keyword("TaskParentId")
TASK_TAGS = SearchAttributeKey.for_keyword_list("TaskTags")
TASK_LABELS = SearchAttributeKey.for_keyword_list("TaskLabels")
TASK_STARTED_AT = SearchAttributeKey.for_datetime("TaskStartedAt")
TASK_COMPLETED_AT = SearchAttributeKey.for_datetime("TaskCompletedAt")
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
    TASK_ATTEMPTS,
]


def label(name: str, value: object) -> str:
    """One packed exact-match label, e.g. `user:42`."""
    return f"{name}:{value}"


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
    }
    return names[key.indexed_value_type.name]
