"""Which task a log line is about, and the JSON it is written as."""

from __future__ import annotations

import json
import logging

from tasklane.logs import REQUEST_TASK_ID, JsonFormatter, TaskIdFilter

TASK = "task_" + "a" * 32


def line(**extra: object) -> dict:
    record = logging.LogRecord(
        "tasklane.test", logging.WARNING, __file__, 1, "hello %s", ("x",), None
    )
    record.__dict__.update(extra)
    assert TaskIdFilter().filter(record)
    return json.loads(JsonFormatter().format(record))  # type: ignore[no-any-return]


def test_a_line_about_a_task_carries_its_id() -> None:
    assert line(task_id=TASK)["task_id"] == TASK
    workflow = {"workflow_id": TASK, "workflow_type": "TaskWorkflow"}
    assert line(temporal_workflow=workflow)["task_id"] == TASK
    assert line(temporal_activity=workflow)["task_id"] == TASK


def test_other_workflows_are_not_tasks() -> None:
    registry = {"workflow_id": "tasklane-url-groups:q:acme", "workflow_type": "UrlGroupRegistry"}
    assert "task_id" not in line(temporal_workflow=registry)


def test_an_api_request_about_a_task_names_it() -> None:
    token = REQUEST_TASK_ID.set(TASK)
    try:
        assert line()["task_id"] == TASK
    finally:
        REQUEST_TASK_ID.reset(token)
    assert "task_id" not in line()


def test_json_fields() -> None:
    found = line()
    assert found["level"] == "warning" and found["logger"] == "tasklane.test"
    assert found["message"] == "hello x" and found["time"].endswith("+00:00")
