"""Process logging for `tasklane api` and `tasklane worker`: one JSON object per line (or
plain text), carrying the `task_id` of the task a line is about whenever it is known."""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from temporalio import activity

from tasklane.model import WORKFLOW_TYPE


def configure(log_format: str, level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(TaskIdFilter())
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(task_id)s] %(message)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # One line per target call is noise at any volume; failures show in Temporal.
    logging.getLogger("httpx").setLevel(logging.WARNING)


# The task an API request is about (api/app.py sets it from the request's path).
REQUEST_TASK_ID: ContextVar[str | None] = ContextVar("request_task_id", default=None)


class TaskIdFilter(logging.Filter):
    """Sets `record.task_id`: given in `extra`, else the workflow id Temporal's loggers add
    (a task's workflow id is its id; other workflows, such as URL group registries, are not
    tasks), else that of the activity running this code, else the API request's task."""

    def filter(self, record: logging.LogRecord) -> bool:
        task_id = getattr(record, "task_id", None)
        for key in ("temporal_activity", "temporal_workflow"):
            context = getattr(record, key, None)
            if task_id is None and isinstance(context, dict):
                if context.get("workflow_type") == WORKFLOW_TYPE:
                    task_id = context.get("workflow_id")
        if task_id is None and activity.in_activity():
            info = activity.info()
            if info.workflow_type == WORKFLOW_TYPE:
                task_id = info.workflow_id
        record.task_id = task_id or REQUEST_TASK_ID.get() or ""
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        task_id = getattr(record, "task_id", "")
        if task_id:
            line["task_id"] = task_id
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)
