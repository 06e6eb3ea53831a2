"""One attempt of a Python-handler task: call the handler registered for the task's type."""

# No `from __future__ import annotations`: the workflow decodes this module's results inside
# Temporal's sandbox, where string annotations may not resolve.

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.http_target import AttemptFailure, failure_error
from activities.running_refresh import kept_running
from tasklane.handlers import Handler, NonRetryableError, PublishedResult, TaskContext
from tasklane.model import TaskScope
from tasklane.running_entries import RunningRef

if TYPE_CHECKING:
    from tasklane.running_view import RunningView

# Heartbeats go out on the handler's behalf, so a dead worker is noticed within the heartbeat
# timeout even when the handler itself never calls ctx.heartbeat().
AUTO_HEARTBEAT_EVERY_S = 2.0


@dataclass
class HandlerInput:
    task_id: str
    type: str
    organisation: str
    user: str | None
    scope: TaskScope
    payload: Any
    attempt: int
    timeout_s: float
    max_result_bytes: int
    max_results: int
    # A system task's running-view entry, kept alive while the handler runs.
    running: RunningRef | None = None


@dataclass
class HandlerResult:
    result_meta: dict[str, Any] | None = None
    results: list[PublishedResult] = field(default_factory=list)


class HandlerRunner:
    """The Python handlers of one worker, by task type."""

    def __init__(self, handlers: dict[str, Handler], view: "RunningView | None" = None) -> None:
        self._handlers = handlers
        self._view = view

    @activity.defn(name="run_handler")
    async def run_handler(self, attempt: HandlerInput) -> HandlerResult:
        """Run the task type's handler; any failure is a non-retryable ApplicationError whose
        details tell the workflow whether another attempt may follow."""
        handler = self._handlers.get(attempt.type)
        if handler is None:
            # Another worker on this queue may have it: worth another attempt.
            raise failure_error(
                AttemptFailure(
                    "ERR_NO_HANDLER",
                    "this worker has no handler for task "
                    f"type {attempt.type}; register it with TasklanePlugin(task_types=...)",
                )
            )
        ctx = TaskContext(
            task_id=attempt.task_id,
            type=attempt.type,
            organisation=attempt.organisation,
            user=attempt.user,
            scope=attempt.scope,
            payload=attempt.payload,
            attempt=attempt.attempt,
            max_result_bytes=attempt.max_result_bytes,
            max_results=attempt.max_results,
        )
        beating = asyncio.create_task(_heartbeat_forever(ctx))
        try:
            async with (
                kept_running(self._view, attempt.running),
                asyncio.timeout(attempt.timeout_s),
            ):
                meta = await handler(ctx)
        except TimeoutError:
            raise failure_error(
                AttemptFailure("ERR_TIMEOUT", f"the handler ran past {attempt.timeout_s:g} s")
            ) from None
        except NonRetryableError as e:
            raise failure_error(AttemptFailure(e.code, _describe(e), retryable=False)) from None
        except ApplicationError as e:
            # A handler may raise Temporal's own error; its type and non_retryable flag count.
            failure = AttemptFailure(
                e.type or "ERR_HANDLER", _describe(e), retryable=not e.non_retryable
            )
            raise failure_error(failure) from None
        except Exception as e:
            raise failure_error(AttemptFailure("ERR_HANDLER", _describe(e))) from None
        finally:
            beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beating
        if meta is not None and not isinstance(meta, dict):
            raise failure_error(
                AttemptFailure(
                    "ERR_HANDLER",
                    f"the handler returned {type(meta).__name__}; return a dict or None",
                    retryable=False,
                )
            )
        return HandlerResult(meta, ctx.results)


async def _heartbeat_forever(ctx: TaskContext) -> None:
    while True:
        await asyncio.sleep(AUTO_HEARTBEAT_EVERY_S)
        activity.heartbeat(*ctx.last_heartbeat)


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:1000]
