"""TaskWorkflow: one task's whole life, from submit to its final status.

The workflow owns delays, expiry, suspension on blocking tasks, the retry loop and
cancellation, so every waiting state (`suspended`, `scheduled`, `retrying`) is a durable
wait that an update can interrupt. At every transition it rewrites the `state` memo and the
search attributes, so the API can read and list tasks from Temporal visibility even while no
worker runs. A task that published results stays open for their retention, to take acks.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

# Workflow code of our own, imported inside the sandbox: each module passes its activity and
# model imports through itself, which also puts them where the sandbox resolves the type
# hints of activity results.
from workflows.attempts import call_target, never_started, read_failure, run_handler
from workflows.blockers import Blockers
from workflows.fanout import Fanout
from workflows.retry_schedule import delay_before_retry
from workflows.task_record import TaskRecord
from workflows.task_text import event_body

with workflow.unsafe.imports_passed_through():
    from activities.http_target import AttemptFailure
    from tasklane.model import (
        GROUP_ALL_FAILED,
        GROUP_NOT_FOUND,
        HANDLER_PYTHON,
        MEMO_STATE,
        WORKFLOW_TYPE,
        AckRequest,
        BlockerOutcome,
        CancelRequest,
        CancelResult,
        DependentRequest,
        ResultInfo,
        Status,
        TaskError,
        TaskInput,
        TaskOutcome,
        TaskState,
    )

MAX_RETRY_DELAY_S = 366 * 86400.0


@workflow.defn(name=WORKFLOW_TYPE)
class TaskWorkflow(TaskRecord):
    @workflow.init
    def __init__(self, task: TaskInput) -> None:
        super().__init__(task.spec, task.state)
        self._cancel_requested = False
        self._blockers = Blockers(task.spec.task_id, task.spec.blocked_by)
        self._fanout = Fanout(task.spec)

    @workflow.run
    async def run(self, task: TaskInput) -> TaskOutcome:
        try:
            return await self._live()
        except asyncio.CancelledError:
            # An operator cancelled the workflow itself (Web UI / CLI). Record it, unless the
            # task had already finished and was only waiting for its notifications. No
            # `task.cancelled` goes out on this path: the workflow stops at once.
            if not self._state.status.finished:
                self._transition(Status.CANCELLED, completed_at=workflow.now())
                self._count_end(Status.CANCELLED)
            # Dependents would otherwise stay suspended, and a system task listed as running:
            # a terminated workflow cannot do this.
            await self._dependents.tell(BlockerOutcome(self._spec.task_id, self._state.status))
            await self._view.end(self._state.status, None)
            raise

    async def _live(self) -> TaskOutcome:
        spec = self._spec
        if self._state.status == Status.SUSPENDED:
            ended = await self._wait_for_blockers()
            if ended is not None:
                return ended
        if self._state.status == Status.SCHEDULED:
            wait_s = (spec.execute_after - workflow.now()).total_seconds()
            if wait_s > 0:
                await self._wait_or_cancel(wait_s, "until execute_after")
        if self._cancel_requested:
            return await self._finish(Status.CANCELLED)
        if spec.expires_at and workflow.now() >= spec.expires_at:
            return await self._finish(
                Status.EXPIRED,
                TaskError("expired", "expires_after passed before the first attempt"),
            )
        # Due now. `queued` is announced, not stored: the attempt below overwrites it at once;
        # but it replaces `suspended`, which reads would otherwise go on showing.
        self._transition(Status.QUEUED, persist=self._state.status == Status.SUSPENDED)
        await self._view.show()
        if self._cancel_requested:  # a DELETE accepted while the task was being listed
            return await self._finish(Status.CANCELLED)
        if spec.group_name is not None:
            return await self._run_group(spec.group_name)
        return await self._attempt_until_done()

    async def _run_group(self, name: str) -> TaskOutcome:
        """Fan out to the group as it is now, then follow the children to their ends.

        The group task is `processing` while its children run; it ends `completed` when at
        least one child completed (`group_info` tells how many did not), `failed` when none
        did. A DELETE makes it `cancelled` at once; it still counts its children to the end.
        """
        fanout, spec = self._fanout, self._spec
        lookup = fanout.resolve()
        try:
            await workflow.wait_condition(
                lambda: lookup.done() or self._cancel_requested,
                timeout=self._time_to_expiry(),
                timeout_summary="expires_after, while reading the group",
            )
        except TimeoutError:
            lookup.cancel()
            return await self._finish(
                Status.EXPIRED, TaskError("expired", "expires_after passed before the fan-out")
            )
        if self._cancel_requested:
            lookup.cancel()
            return await self._finish(Status.CANCELLED)
        group = lookup.result()
        if group.group_id is None:
            return await self._finish(
                Status.FAILED,
                TaskError(GROUP_NOT_FOUND, f"no URL group named {name!r} when the task was due"),
            )
        fanout.plan(group.urls)
        now = workflow.now()
        self._transition(
            Status.PROCESSING, started_at=now, last_attempt_at=now, group_info=fanout.info
        )
        await fanout.start()
        while not fanout.finished:
            await workflow.wait_condition(lambda: fanout.news or self._cancelling)
            if fanout.news:
                self._record_group(fanout.info, fanout.take_news())
            if self._cancelling and not fanout.finished:
                self._transition(Status.CANCELLED, completed_at=workflow.now())
                self._outbox.emit(
                    "group.task_cancelled", lambda e: event_body(spec, self._state, e)
                )
        for event in fanout.closing_events():
            self._outbox.emit(event, lambda e: event_body(spec, self._state, e))
        if self._state.status.finished:  # cancelled while its children ran
            return await self._close(self._state.status)
        if fanout.info.completed == 0:
            error = TaskError(GROUP_ALL_FAILED, "no task of the group completed")
            return await self._finish(Status.FAILED, error, group_info=fanout.info)
        return await self._finish(Status.COMPLETED, group_info=fanout.info)

    def _time_to_expiry(self) -> float | None:
        if self._spec.expires_at is None:
            return None
        return max(0.0, (self._spec.expires_at - workflow.now()).total_seconds())

    @property
    def _cancelling(self) -> bool:
        return self._cancel_requested and not self._state.status.finished

    async def _wait_for_blockers(self) -> TaskOutcome | None:
        """Stay suspended until every blocker succeeded; the outcome if the task ends here."""
        spec = self._spec
        await self._blockers.subscribe()
        try:
            await workflow.wait_condition(
                lambda: self._cancel_requested or self._blockers.settled,
                timeout=self._time_to_expiry(),
                timeout_summary="expires_after, while suspended",
            )
        except TimeoutError:
            return await self._finish(
                Status.EXPIRED,
                TaskError("expired", "expires_after passed while waiting for blocking tasks"),
            )
        if self._cancel_requested:
            return await self._finish(Status.CANCELLED)
        failure = self._blockers.failure
        if failure is not None:
            return await self._finish(Status.FAILED, failure)
        if spec.execute_after > workflow.now():
            self._transition(Status.SCHEDULED)
        return None

    async def _attempt_until_done(self) -> TaskOutcome:
        spec = self._spec
        while True:
            attempt = self._state.attempts + 1
            now = workflow.now()
            self._transition(
                Status.PROCESSING,
                attempts=attempt,
                last_attempt_at=now,
                started_at=self._state.started_at or now,
                next_attempt_at=None,
            )
            try:
                start_by, running = self._time_left_to_start(attempt), self._view.ref
                if spec.handler == HANDLER_PYTHON:
                    result = await run_handler(spec, attempt, start_by, running)
                    return await self._finish(
                        Status.COMPLETED,
                        error=None,
                        result_meta=result.result_meta,
                        results=[published.info for published in result.results],
                    )
                meta = await call_target(spec, attempt, start_by, running)
                return await self._finish(Status.COMPLETED, error=None, result_meta=meta)
            except ActivityError as e:
                if never_started(e) and attempt == 1:
                    return await self._finish(
                        Status.EXPIRED,
                        TaskError("expired", "expires_after passed before a worker started it"),
                        attempts=0,
                        started_at=None,
                        last_attempt_at=None,
                    )
                failure = read_failure(e)
            error = TaskError(failure.code, failure.message, failure.status_code)
            if not failure.retryable or attempt >= spec.retry.max_attempts:
                return await self._finish(Status.FAILED, error)
            outcome = await self._wait_for_retry(attempt, failure, error)
            if outcome is not None:
                return outcome

    async def _wait_for_retry(
        self, attempt: int, failure: AttemptFailure, error: TaskError
    ) -> TaskOutcome | None:
        """Sleep until the next attempt; the outcome if the task ends meanwhile."""
        spec = self._spec
        delay_s = failure.retry_after_s
        if delay_s is None:
            delay_s = delay_before_retry(spec.retry, attempt, workflow.random())
        delay_s = min(delay_s, MAX_RETRY_DELAY_S)  # inputs are bounded; this guards the timer
        now = workflow.now()
        next_at = now + timedelta(seconds=delay_s)
        self._transition(Status.RETRYING, error=error, next_attempt_at=next_at)
        await self._view.extend(delay_s)
        abandon = spec.expires_at is not None and next_at >= spec.expires_at
        if abandon and spec.expires_at is not None:
            delay_s = max(0.0, (spec.expires_at - now).total_seconds())
        await self._wait_or_cancel(delay_s, f"retry {attempt + 1} of {spec.retry.max_attempts}")
        if self._cancel_requested:
            return await self._finish(Status.CANCELLED)
        if abandon:
            return await self._finish(
                Status.ABANDONED,
                TaskError(
                    "abandoned",
                    f"expired while retrying; last error: {error.message}",
                    error.status_code,
                ),
            )
        return None

    def _time_left_to_start(self, attempt: int) -> timedelta | None:
        # Only the first attempt can expire: later ones are bounded by `abandoned`.
        if attempt != 1 or self._spec.expires_at is None:
            return None
        left = self._spec.expires_at - workflow.now()
        return max(left, timedelta(milliseconds=1))

    async def _wait_or_cancel(self, seconds: float, summary: str) -> None:
        try:
            await workflow.wait_condition(
                lambda: self._cancel_requested, timeout=seconds, timeout_summary=summary
            )
        except TimeoutError:
            pass

    @workflow.update
    async def cancel(self, request: CancelRequest) -> CancelResult:
        """Cancel the task between attempts; answers with the status it ended in. A group
        task also cancels each child that is not mid-attempt, and names the others."""
        self._cancel_requested = True
        result = CancelResult(Status.CANCELLED)
        if self._fanout.planned:
            self._fanout.cancelled = True
            await workflow.wait_condition(lambda: self._fanout.started)
            children = await self._fanout.cancel_unfinished()
            for outcome in children.ended:
                self._fanout.record(outcome)
            result.children_cancelled = children.cancelled
            result.children_not_cancelled = children.not_cancelled
        await workflow.wait_condition(lambda: self._state.status.finished)
        result.status = self._state.status
        return result

    @cancel.validator
    def _may_cancel(self, request: CancelRequest) -> None:
        status = self._state.status
        if status == Status.PROCESSING and not self._fanout.planned:
            raise ApplicationError(
                "the task is mid-attempt; it can be cancelled only between attempts",
                type="TaskMidAttempt",
            )
        if status.finished:
            raise ApplicationError(f"the task is already {status.value}", type="TaskFinished")
        if self._fanout.finished:
            raise ApplicationError("every task of the group has ended", type="TaskFinished")

    @workflow.update
    def ack_result(self, request: AckRequest) -> ResultInfo:
        """Mark a result consumed (ricloud `POST /results/{id}/ack`)."""
        results = self._state.results
        index = next(i for i, r in enumerate(results) if r.id == request.result_id)
        if results[index].consumed_at is None:
            acked = dataclasses.replace(results[index], consumed_at=workflow.now())
            self._state = dataclasses.replace(
                self._state, results=[*results[:index], acked, *results[index + 1 :]]
            )
            workflow.upsert_memo({MEMO_STATE: self._state})
        return self._state.results[index]

    @ack_result.validator
    def _may_ack(self, request: AckRequest) -> None:
        if not any(r.id == request.result_id for r in self._state.results):
            raise ApplicationError("no such result", type="ResultNotFound")
        if workflow.now() >= self._retention_end():
            raise ApplicationError("the result has expired", type="ResultExpired")

    @workflow.signal
    def add_dependent(self, request: DependentRequest) -> None:
        """A suspended task waits on this one: tell it how this task ends."""
        self._dependents.add(request.task_id)

    @workflow.signal
    def blocker_finished(self, outcome: BlockerOutcome) -> None:
        """One of this task's blockers, or of a group task's children, has ended."""
        self._blockers.record(outcome)
        self._fanout.record(outcome)

    @workflow.query
    def state(self) -> TaskState:
        """The live state (the memo carries the same, readable without a worker)."""
        return self._state
