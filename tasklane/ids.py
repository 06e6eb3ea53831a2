"""One 128-bit id per task, in each dialect's form: `task_<32 hex>` (Taskhook, and the
Temporal workflow id), a dashed UUID (ricloud), 32 bare hex digits (Metavault)."""

from __future__ import annotations

import re
import uuid

_TASKHOOK = re.compile(r"^task_([0-9a-f]{32})$")
_HEX = re.compile(r"^[0-9a-f]{32}$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_IN_PATH = re.compile(r"/tasks/([A-Za-z0-9_-]{32,41})(?:/|$)")


def parse_task_id(text: str) -> str | None:
    """The workflow id for any of the three forms (case-insensitive), else None."""
    text = text.strip().lower()
    if _TASKHOOK.fullmatch(text):
        return text
    if _HEX.fullmatch(text):
        return f"task_{text}"
    if _UUID.fullmatch(text):
        return f"task_{text.replace('-', '')}"
    return None


def task_id_in_path(path: str) -> str | None:
    """The task a request path names (`/v1/tasks/task_…`, `/tasks/<uuid>`,
    `/api/projects/p/tasks/<hex>` and below them), else None."""
    match = _IN_PATH.search(path)
    return parse_task_id(match.group(1)) if match else None


def as_hex(task_id: str) -> str:
    return task_id.removeprefix("task_")


def as_uuid(task_id: str) -> str:
    return str(uuid.UUID(hex=as_hex(task_id)))
