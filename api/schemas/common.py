"""Body checks every dialect that creates tasks shares."""

from __future__ import annotations

import json
from typing import Any

from api.errors import InvalidRequest, TooLarge, Unprocessable
from tasklane.config import Limits
from tasklane.ids import parse_task_id
from tasklane.task_types import TaskType, TaskTypes


def check_payload(payload: Any, limit: int) -> int:
    """The payload's JSON size; 413 past `limit`, 400 for NaN or Infinity inside it."""
    try:
        size = len(json.dumps(payload, separators=(",", ":"), allow_nan=False))
    except ValueError:
        # Python's parser takes NaN and Infinity, but they are not JSON to a target or handler.
        raise InvalidRequest(
            "payload holds NaN or Infinity, which JSON cannot carry", field="payload"
        ) from None
    if size > limit:
        raise TooLarge(f"payload is {size} bytes; the limit is {limit}", field="payload")
    return size


def blocker_ids(raw: list[str] | None, limits: Limits) -> list[str]:
    """Blocker ids in any dialect's form, as workflow ids, without repeats."""
    if not raw:
        return []
    if len(raw) > limits.max_blockers:
        raise Unprocessable(
            f"blocked_by lists more than {limits.max_blockers} tasks", field="blocked_by"
        )
    ids = []
    for text in raw:
        task_id = parse_task_id(text)
        if task_id is None:
            raise InvalidRequest(f"blocked_by: {text[:80]!r} is not a task id", field="blocked_by")
        ids.append(task_id)
    return list(dict.fromkeys(ids))


def registered_type(types: TaskTypes, name: str, field: str) -> TaskType:
    """The task type called `name`; 400 naming `field` and the known types otherwise."""
    found = types.get(name)
    if found is None:
        raise InvalidRequest(
            f"unknown task type {name[:100]!r}; known: {', '.join(types.names)}",
            field=field,
            location="body",
        )
    return found
