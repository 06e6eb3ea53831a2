"""Attempt outcomes that need a worker whose guard is on, and Retry-After parsing."""

from __future__ import annotations

import uuid

from activities.http_target import MAX_RETRY_AFTER_S, parse_retry_after
from tasklane.client import TasklaneClient
from tasklane.model import Status
from tasklane.task_types import TaskType
from tests.api.test_taskhook_lifecycle import wait_status
from tests.conftest import Servers, eventually
from tests.receiver import Reply


def test_retry_after_seconds_and_dates_are_read_and_bounded() -> None:
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after("300000000000") == MAX_RETRY_AFTER_S
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert parse_retry_after("soon") is None


async def test_unresolvable_target_fails_with_err_dns_when_the_guard_is_on(
    servers: Servers,
) -> None:
    settings = servers.settings(f"guard-{uuid.uuid4().hex[:8]}", allow_private=False)
    await servers.worker(settings)
    api = await servers.api(settings)
    async with api.client() as client:
        body = {"target": "http://no-such-host.invalid/x", "retry": {"max_attempts": 1}}
        task = (await client.post("/v1/tasks", json=body)).json()
        done = await wait_status(client, task["id"], "failed")
    assert done["error"]["code"] == "ERR_DNS"


async def test_a_task_types_own_url_is_trusted_when_the_guard_is_on(
    servers: Servers, temporal, receiver, path
) -> None:
    settings = servers.settings(f"guard-{uuid.uuid4().hex[:8]}", allow_private=False)
    await servers.worker(settings)
    # Loopback: refused to clients, fine for the operator. A JSON answer is the result_meta.
    url = receiver.script(path, Reply(200, body=b'{"count": 5}'))
    tasks = TasklaneClient(
        temporal.client, task_types=[TaskType("PING", url=url)], task_queue=settings.task_queue
    )
    task_id = await tasks.start("PING", organisation="acme", payload={"n": 1})

    async def completed() -> bool:
        return (await tasks.get(task_id)).state.status == Status.COMPLETED

    await eventually(completed)
    assert [call.json() for call in receiver.at(path)] == [{"n": 1}]
    assert (await tasks.get(task_id)).state.result_meta == {"count": 5}
