"""A system task (a task of a client account) in the running view and on the event bus."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest
import redis.asyncio as aioredis

from tasklane.client import TasklaneClient
from tasklane.model import RetryPolicy, Status
from tasklane.running_view import EventBus, RunningView
from tasklane.task_types import TaskType
from tests.conftest import eventually


@pytest.fixture
async def redis(redis_url: str):  # type: ignore[no-untyped-def]
    client = aioredis.from_url(redis_url)
    yield client
    await client.aclose()


async def collect(bus: EventBus, account: int, into: list[tuple[str, dict[str, Any]]]) -> None:
    async for item in bus.subscribe(account):
        into.append(item)


async def test_running_task_is_listed_then_removed_with_its_events(tasklane_client, redis) -> None:
    account = random.randrange(10**9)
    view, bus, events = RunningView(redis), EventBus(redis), []
    listening = asyncio.create_task(collect(bus, account, events))
    await asyncio.sleep(0.2)  # the subscription is in place before the task starts
    meta = {"income_year": 2024, "business_partner_id": 56}
    task_id = await tasklane_client.start(
        "SCRIPTED",
        organisation="acme",
        client_account=account,
        payload={**meta, "sleep": 1.5, "meta": {"count": 5}},
    )

    running = await eventually(lambda: view.list(account))
    assert [(e.task_id, e.task_type) for e in running] == [(task_id, "SCRIPTED")]
    assert running[0].meta["income_year"] == 2024 and running[0].started_at.endswith("+00:00")

    async def gone() -> bool:
        return (await tasklane_client.get(task_id)).state.status.finished and not await view.list(
            account
        )

    await eventually(gone)
    await eventually(lambda: asyncio.sleep(0, len(events) >= 2))
    listening.cancel()
    assert [name for name, _ in events] == ["create_system_task", "update_system_task"]
    assert events[0][1]["task_type"] == "SCRIPTED" and events[0][1]["task_id"] == task_id
    assert events[1][1]["status"] == "completed"
    assert events[1][1]["result_meta"]["count"] == 5


async def test_a_failed_task_leaves_the_view_with_a_failed_update(tasklane_client, redis) -> None:
    account = random.randrange(10**9)
    view, bus, events = RunningView(redis), EventBus(redis), []
    listening = asyncio.create_task(collect(bus, account, events))
    await asyncio.sleep(0.2)
    task_id = await tasklane_client.start(
        "SCRIPTED", organisation="acme", client_account=account, payload={"fail": "final"}
    )
    await eventually(lambda: asyncio.sleep(0, len(events) >= 2))
    listening.cancel()
    assert [name for name, _ in events] == ["create_system_task", "update_system_task"]
    assert events[1][1] == {"task_id": task_id, "status": "failed", "result_meta": None}
    assert await view.list(account) == []


async def test_tasks_of_no_client_account_stay_out_of_the_view(tasklane_client, temporal) -> None:
    task_id = await tasklane_client.start("SCRIPTED", organisation="acme")

    async def finished() -> bool:
        return (await tasklane_client.get(task_id)).state.status.finished

    await eventually(finished)
    history = (await temporal.client.get_workflow_handle(task_id).fetch_history()).to_json()
    assert "run_handler" in history and "announce_running" not in history


async def test_an_operator_cancel_while_retrying_ends_the_listing(temporal, stack, redis) -> None:
    """Cancelled in the Web UI between attempts: the task leaves the view with its update."""
    retry_later = RetryPolicy(max_attempts=3, backoff="fixed", initial_delay_s=60)
    slow_retry = TaskType("RETRY_LATER", handler="tests.handlers:scripted", retry=retry_later)
    tasks = TasklaneClient(
        temporal.client, task_types=[slow_retry], task_queue=stack.settings.task_queue
    )
    account = random.randrange(10**9)
    view, bus, events = RunningView(redis), EventBus(redis), []
    listening = asyncio.create_task(collect(bus, account, events))
    await asyncio.sleep(0.2)
    task_id = await tasks.start(
        "RETRY_LATER", organisation="acme", client_account=account, payload={"fail": "retryable"}
    )

    async def retrying() -> bool:
        return (await tasks.get(task_id)).state.status == Status.RETRYING

    await eventually(retrying)
    assert [e.task_id for e in await view.list(account)] == [task_id]
    await temporal.client.get_workflow_handle(task_id).cancel()
    await eventually(lambda: asyncio.sleep(0, len(events) >= 2))
    listening.cancel()
    assert events[1] == (
        "update_system_task",
        {"task_id": task_id, "status": "failed", "result_meta": None},
    )
    assert await view.list(account) == []
