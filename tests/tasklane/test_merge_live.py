"""The memo snapshot merged with the live search attributes reads like a full write."""

from datetime import UTC, datetime, timedelta

from tasklane.model import LiveFields, Status, TaskError, TaskState, merge_live

T0 = datetime(2024, 2, 1, 12, 0, tzinfo=UTC)
ERROR = TaskError("ERR_HTTP_STATUS", "target answered HTTP 500", 500)


def test_first_attempt_running_from_a_queued_snapshot() -> None:
    snapshot = TaskState(status=Status.QUEUED, updated_at=T0)
    started = T0 + timedelta(seconds=1)
    state = merge_live(snapshot, LiveFields(Status.PROCESSING, 1, started, None))
    assert state.status == Status.PROCESSING and state.previous_status == Status.QUEUED
    assert state.attempts == 1 and state.last_attempt_at == started == state.updated_at


def test_third_attempt_running_from_a_retrying_snapshot() -> None:
    due = T0 + timedelta(seconds=30)
    snapshot = TaskState(
        status=Status.RETRYING,
        updated_at=T0,
        attempts=2,
        started_at=T0,
        last_attempt_at=T0 + timedelta(seconds=10),
        next_attempt_at=due,
        error=ERROR,
    )
    state = merge_live(snapshot, LiveFields(Status.PROCESSING, 3, T0, None))
    assert state.previous_status == Status.RETRYING and state.attempts == 3
    assert state.last_attempt_at == due and state.next_attempt_at is None
    assert state.error == ERROR  # the last attempt's error stays visible while retrying


def test_completed_after_retries_clears_the_error() -> None:
    due, done = T0 + timedelta(seconds=30), T0 + timedelta(seconds=31)
    snapshot = TaskState(
        status=Status.RETRYING,
        updated_at=T0,
        attempts=1,
        started_at=T0,
        last_attempt_at=T0,
        next_attempt_at=due,
        error=ERROR,
    )
    state = merge_live(snapshot, LiveFields(Status.COMPLETED, 2, T0, done))
    assert state.status == Status.COMPLETED and state.previous_status == Status.PROCESSING
    assert state.completed_at == done == state.updated_at and state.error is None
    assert state.last_attempt_at == due and state.attempts == 2


def test_statuses_written_to_the_memo_are_taken_as_they_are() -> None:
    snapshot = TaskState(status=Status.FAILED, updated_at=T0, attempts=1, error=ERROR)
    live = LiveFields(Status.FAILED, 1, T0, T0)
    assert merge_live(snapshot, live) is snapshot
