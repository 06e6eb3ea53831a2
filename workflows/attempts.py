"""One attempt of a task, as an activity: the HTTP call, or the type's Python handler.

Temporal never retries an attempt on its own (TaskWorkflow owns the retry loop); a dead
worker is noticed through missed heartbeats, well before the attempt's timeout.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, TimeoutType
from temporalio.exceptions import TimeoutError as ActivityTimeoutError

with workflow.unsafe.imports_passed_through():
    from activities.http_target import AttemptFailure, AttemptInput
    from activities.python_handlers import HandlerInput, HandlerResult
    from tasklane.model import TaskSpec
    from tasklane.running_entries import RunningRef

ATTEMPT_HEARTBEAT_TIMEOUT = timedelta(seconds=10)
SINGLE_TRY = RetryPolicy(maximum_attempts=1)
FAILURE_FIELDS = frozenset(field.name for field in dataclasses.fields(AttemptFailure))


async def call_target(
    spec: TaskSpec, attempt: int, start_by: timedelta | None, running: RunningRef | None = None
) -> dict[str, Any] | None:
    """The attempt; the result_meta a task type's target answered, if any."""
    assert spec.target is not None
    result = await workflow.execute_activity(
        "call_target",
        AttemptInput(
            spec.task_id,
            attempt,
            spec.target,
            spec.payload,
            spec.timeout_s,
            spec.trusted_target,
            running,
        ),
        start_to_close_timeout=timedelta(seconds=spec.timeout_s + 10),
        heartbeat_timeout=ATTEMPT_HEARTBEAT_TIMEOUT,
        schedule_to_start_timeout=start_by,
        retry_policy=SINGLE_TRY,
        summary=f"attempt {attempt}: {spec.target.method} {spec.target.url}"[:200],
    )
    # Read as the plain dict it travels as: older attempts' results have no result_meta.
    meta = result.get("result_meta") if isinstance(result, dict) else None
    return meta if isinstance(meta, dict) else None


async def run_handler(
    spec: TaskSpec, attempt: int, start_by: timedelta | None, running: RunningRef | None = None
) -> HandlerResult:
    return await workflow.execute_activity(
        "run_handler",
        HandlerInput(
            task_id=spec.task_id,
            type=spec.type,
            organisation=spec.organisation,
            user=spec.user,
            scope=spec.scope,
            payload=spec.payload,
            attempt=attempt,
            timeout_s=spec.timeout_s,
            max_result_bytes=spec.max_result_bytes,
            max_results=spec.max_results,
            running=running,
        ),
        result_type=HandlerResult,
        # The handler's own deadline fires first and reports ERR_TIMEOUT.
        start_to_close_timeout=timedelta(seconds=spec.timeout_s + 10),
        heartbeat_timeout=ATTEMPT_HEARTBEAT_TIMEOUT,
        schedule_to_start_timeout=start_by,
        retry_policy=SINGLE_TRY,
        task_queue=spec.handler_queue,
        summary=f"attempt {attempt}: {spec.type} handler"[:200],
    )


def never_started(error: ActivityError) -> bool:
    """The attempt waited for a worker until the task expired."""
    cause = error.cause
    return isinstance(cause, ActivityTimeoutError) and cause.type == TimeoutType.SCHEDULE_TO_START


def read_failure(error: ActivityError) -> AttemptFailure:
    """What went wrong, from the details the activity attached (or the timeout that hit)."""
    cause = error.cause
    if isinstance(cause, ApplicationError) and cause.details:
        details = cause.details[0]
        # Only our activities attach these exact fields; anything else must not crash here.
        if isinstance(details, dict) and set(details) <= FAILURE_FIELDS and "code" in details:
            return AttemptFailure(**details)
    if isinstance(cause, ActivityTimeoutError):
        return AttemptFailure(
            "ERR_WORKER_LOST",
            f"attempt lost: {cause.type.name.lower() if cause.type else 'activity'} timeout",
        )
    return AttemptFailure("ERR_ATTEMPT", str(cause or error))
