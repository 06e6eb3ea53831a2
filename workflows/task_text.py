"""What a task says about itself: the Web UI's current details and notification bodies."""

from __future__ import annotations

import dataclasses
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from tasklane.model import TaskSpec, TaskState
    from tasklane.times import iso


def details(spec: TaskSpec, state: TaskState) -> str:
    """Markdown for the Web UI: status, attempt, next attempt, last error."""
    if spec.group_name is not None:
        lines = [f"**status** {state.status.value} · group {spec.group_name}"]
    else:
        lines = [
            f"**status** {state.status.value} · attempt {state.attempts} of "
            f"{spec.retry.max_attempts}"
        ]
    if state.next_attempt_at:
        lines.append(f"**next attempt** {iso(state.next_attempt_at)}")
    if state.error:
        code = f" (HTTP {state.error.status_code})" if state.error.status_code else ""
        lines.append(f"**last error** {state.error.code}{code}: {state.error.message}")
    if state.group_info:
        info = state.group_info
        lines.append(
            f"**group** {info.total_tasks} tasks: {info.completed} completed, "
            f"{info.failed} failed, {info.remaining} remaining"
        )
    return "\n\n".join(lines)


def event_body(spec: TaskSpec, state: TaskState, event: str) -> dict[str, Any]:
    """The notification payload of the seed, for `event`."""
    body: dict[str, Any] = {
        "task_id": spec.task_id,
        "event": event,
        "timestamp": iso(workflow.now()),
        "status": state.status.value,
        "previous_status": state.previous_status.value if state.previous_status else None,
        "attempt": state.attempts or None,
        "target": dataclasses.asdict(spec.target) if spec.target else None,
        "payload": spec.payload,
    }
    if state.error and state.status.finished:
        body["error"] = dataclasses.asdict(state.error)
    if state.group_info:
        body["group_info"] = state.group_info.as_dict()
    return body
