"""TasklaneClient against the real stack: typed tasks with Python handlers and results."""

from __future__ import annotations

import hashlib

import pytest

from tasklane.client import TasklaneClient
from tasklane.errors import InvalidTask, ResultNotAvailable
from tasklane.model import Status
from tasklane.result_store import ResultState
from tests.conftest import eventually


async def finished(tasks: TasklaneClient, task_id: str, timeout_s: float = 20.0):  # type: ignore[no-untyped-def]
    async def check():  # type: ignore[no-untyped-def]
        view = await tasks.get(task_id)
        return view if view.state.status.finished else None

    return await eventually(check, timeout_s)


async def test_handler_result_meta_and_results_are_read_back(tasklane_client) -> None:
    payload = {
        "meta": {"count": 5},
        "results": [
            {
                "data": "hello",
                "encoding": "utf-8",
                "content_type": "text/csv",
                "identifier": "a.csv",
            },
            {"data": {"x": 1}},
        ],
    }
    task_id = await tasklane_client.start(
        "SCRIPTED", organisation="acme", user="Bob Marley", project="p1", payload=payload
    )
    view = await finished(tasklane_client, task_id)
    assert view.state.status == Status.COMPLETED
    assert view.state.result_meta == {"count": 5, "attempt": 1, "user": "Bob Marley"}
    results = await tasklane_client.results(task_id)
    assert [r.info.identifier for r in results] == ["a.csv", None]
    assert [r.info.content_type for r in results] == ["text/csv", "application/json"]
    assert results[0].info.md5 == hashlib.md5(b"hello").hexdigest() and results[0].info.size == 5
    assert all(r.state == ResultState.AVAILABLE for r in results)
    assert await tasklane_client.result_data(task_id) == b"hello"
    assert await tasklane_client.result_data(task_id, results[1].info.id) == b'{"x":1}'

    acked = await tasklane_client.ack(task_id, results[0].info.id)
    assert acked.state == ResultState.CONSUMED and acked.info.consumed_at is not None


async def test_retryable_failure_is_retried_then_fails(tasklane_client) -> None:
    task_id = await tasklane_client.start(
        "SCRIPTED", organisation="acme", payload={"fail": "retryable"}
    )
    view = await finished(tasklane_client, task_id)
    assert view.state.status == Status.FAILED and view.state.attempts == 2
    assert view.state.error and view.state.error.code == "ERR_HANDLER"
    assert "attempt 2 failed" in view.state.error.message


async def test_non_retryable_error_ends_the_task_at_once(tasklane_client) -> None:
    task_id = await tasklane_client.start(
        "SCRIPTED", organisation="acme", payload={"fail": "final"}
    )
    view = await finished(tasklane_client, task_id)
    assert view.state.status == Status.FAILED and view.state.attempts == 1
    assert view.state.error and "gave up" in view.state.error.message


async def test_a_handlers_own_application_error_fails_the_task_with_its_type(
    tasklane_client,
) -> None:
    task_id = await tasklane_client.start(
        "SCRIPTED", organisation="acme", payload={"fail": "temporal"}
    )
    view = await finished(tasklane_client, task_id)
    assert view.state.status == Status.FAILED and view.state.attempts == 1
    assert view.state.error and view.state.error.code == "Rejected"
    assert "invoice rejected" in view.state.error.message


async def test_results_over_the_size_limit_fail_the_task_clearly(tasklane_client) -> None:
    big = {"results": [{"data": "x" * 70_000, "encoding": "utf-8"}]}  # limit is 65536 in tests
    task_id = await tasklane_client.start("SCRIPTED", organisation="acme", payload=big)
    view = await finished(tasklane_client, task_id)
    assert view.state.status == Status.FAILED and view.state.attempts == 1
    assert view.state.error and view.state.error.code == "ERR_RESULT_TOO_LARGE"
    assert "65536" in view.state.error.message


async def test_results_expire_after_the_retention(tasklane_client) -> None:
    payload = {"results": [{"data": "soon gone", "encoding": "utf-8"}]}
    task_id = await tasklane_client.start("SHORT_RETENTION", organisation="acme", payload=payload)
    await finished(tasklane_client, task_id)
    assert await tasklane_client.result_data(task_id) == b"soon gone"

    async def expired():  # type: ignore[no-untyped-def]
        results = await tasklane_client.results(task_id)
        return results if results[0].state == ResultState.EXPIRED else None

    await eventually(expired, timeout_s=10)
    with pytest.raises(ResultNotAvailable):
        await tasklane_client.result_data(task_id)
    assert (await tasklane_client.get(task_id)).state.status == Status.COMPLETED


async def test_unknown_type_is_refused(tasklane_client) -> None:
    with pytest.raises(InvalidTask, match="NOPE"):
        await tasklane_client.start("NOPE", organisation="acme")
