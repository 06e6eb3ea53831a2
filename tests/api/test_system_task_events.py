"""System tasks' Server-Sent Events, `GET /api/v2/system-tasks/events`, against the real stack.

A subscriber is in place once Redis counts a subscriber on the account's channel (each test
has an account of its own), so no test relies on a sleep before it starts a task.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis

from api import sse
from tasklane.running_view import channel
from tests.api.test_system_tasks import URL, UTC_SECONDS, listed, new_account, start
from tests.conftest import Api, Servers, eventually, free_port

EVENTS = f"{URL}/events"


@dataclass
class Stream:
    """What one SSE client saw."""

    status: int | None = None
    content_type: str = ""
    body: bytes = b""  # the whole body of a response that was not a stream
    events: list[tuple[str, Any]] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)


async def read_stream(client: httpx.AsyncClient, params: dict[str, Any], into: Stream) -> None:
    """Read the event stream the way an EventSource does, until it ends."""
    async with client.stream("GET", EVENTS, params=params) as response:
        into.status = response.status_code
        into.content_type = response.headers.get("content-type", "")
        if response.status_code != 200:
            into.body = await response.aread()
            return
        name, data = "message", []
        async for line in response.aiter_lines():
            if line.startswith(":"):
                into.comments.append(line[1:].strip())
            elif line.startswith("event:"):
                name = line.removeprefix("event:").strip()
            elif line.startswith("data:"):
                data.append(line.removeprefix("data:").strip())
            elif line == "" and data:
                into.events.append((name, json.loads("\n".join(data))))
                name, data = "message", []


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(redis_url)
    yield client
    await client.aclose()


async def subscribers(redis: aioredis.Redis, account: int) -> int:
    """How many connections Redis has subscribed to the account's channel."""
    return int(dict(await redis.pubsub_numsub(channel(account)))[channel(account).encode()])


@contextlib.asynccontextmanager
async def subscribed(
    client: httpx.AsyncClient, account: int, redis: aioredis.Redis
) -> AsyncIterator[Stream]:
    """An open event stream of the account, subscribed in Redis; closed on exit."""
    stream = Stream()
    reader = asyncio.create_task(read_stream(client, {"client_account_id": account}, stream))
    try:
        await eventually(lambda: subscribers(redis, account), timeout_s=5)
        await eventually(lambda: asyncio.sleep(0, stream.status), timeout_s=5)
        assert stream.status == 200 and stream.content_type.startswith("text/event-stream")
        yield stream
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader


async def received(stream: Stream, count: int, timeout_s: float = 10) -> list[tuple[str, Any]]:
    await eventually(lambda: asyncio.sleep(0, len(stream.events) >= count), timeout_s=timeout_s)
    return stream.events


async def test_a_subscriber_sees_a_task_start_and_complete_while_the_list_shows_it(
    acme: httpx.AsyncClient, redis: aioredis.Redis
) -> None:
    account = new_account()
    meta = {"income_year": 2024, "business_partner_id": 56, "sleep": 1.5, "meta": {"count": 5}}
    async with subscribed(acme, account, redis) as stream:
        started = await start(acme, account, meta)
        running = await eventually(lambda: listed(acme, account), timeout_s=5)
        assert running == [
            {"task_type": "SCRIPTED", "started_at": running[0]["started_at"], "meta": meta}
        ]
        assert UTC_SECONDS.match(running[0]["started_at"])

        events = await received(stream, 2)
        assert await listed(acme, account) == []  # gone at once: removed before the update

    assert [name for name, _ in events] == ["create_system_task", "update_system_task"]
    created, updated = events[0][1], events[1][1]
    assert created == {
        "task_id": started["id"],
        "task_type": "SCRIPTED",
        "started_at": running[0]["started_at"],
        "meta": meta,
    }
    assert updated["task_id"] == started["id"] and updated["status"] == "completed"
    assert updated["result_meta"]["count"] == 5
    assert stream.comments[0] == "connected"


async def test_a_failed_task_sends_a_failed_update(
    acme: httpx.AsyncClient, redis: aioredis.Redis
) -> None:
    account = new_account()
    async with subscribed(acme, account, redis) as stream:
        started = await start(acme, account, {"fail": "final"})
        events = await received(stream, 2)
    assert [name for name, _ in events] == ["create_system_task", "update_system_task"]
    assert events[1][1] == {"task_id": started["id"], "status": "failed", "result_meta": None}


async def test_a_subscriber_on_one_replica_gets_events_of_a_task_started_through_another(
    stack: Api, servers: Servers, acme: httpx.AsyncClient, redis: aioredis.Redis
) -> None:
    other = await servers.api(stack.settings)
    account = new_account()
    async with other.client("acme") as client, subscribed(client, account, redis) as stream:
        started = await start(acme, account, {"meta": {"count": 1}})
        events = await received(stream, 2)
    assert [(name, data["task_id"]) for name, data in events] == [
        ("create_system_task", started["id"]),
        ("update_system_task", started["id"]),
    ]


async def test_events_of_other_accounts_do_not_reach_a_subscriber(
    acme: httpx.AsyncClient, redis: aioredis.Redis
) -> None:
    account, other = new_account(), new_account()
    async with subscribed(acme, account, redis) as stream, subscribed(acme, other, redis) as seen:
        await start(acme, other, {})
        await received(seen, 2)
        mine = await start(acme, account, {})
        events = await received(stream, 2)
    assert {data["task_id"] for _, data in events} == {mine["id"]}


async def test_an_idle_stream_sends_keep_alive_comments(
    acme: httpx.AsyncClient, redis: aioredis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sse, "KEEPALIVE_S", 0.2)
    async with subscribed(acme, new_account(), redis) as stream:
        await eventually(lambda: asyncio.sleep(0, stream.comments.count("keep-alive") >= 2))
    assert stream.comments[0] == "connected" and stream.events == []


async def test_a_client_that_disconnects_is_unsubscribed(
    acme: httpx.AsyncClient, redis: aioredis.Redis
) -> None:
    account = new_account()
    async with subscribed(acme, account, redis):
        assert await subscribers(redis, account) == 1

    async def unsubscribed() -> bool:
        return await subscribers(redis, account) == 0

    await eventually(unsubscribed, timeout_s=5)


# --- errors: no stream at all -----------------------------------------------------------


async def refused(client: httpx.AsyncClient, params: dict[str, Any]) -> Stream:
    stream = Stream()
    await asyncio.wait_for(read_stream(client, params, stream), timeout=10)
    assert stream.content_type.startswith("application/json")
    assert b"event:" not in stream.body
    return stream


async def test_a_subscriber_for_an_account_outside_the_keys_accounts_gets_403_and_no_events(
    stack: Api, redis: aioredis.Redis
) -> None:
    async with stack.client("bob") as bob:
        stream = await refused(bob, {"client_account_id": 58})
    assert stream.status == 403
    error = json.loads(stream.body)["error"]
    assert error["code"] == "forbidden" and "58" in error["message"]
    assert await subscribers(redis, 58) == 0


async def test_a_subscriber_within_the_keys_accounts_gets_the_stream(
    stack: Api, redis: aioredis.Redis
) -> None:
    async with stack.client("bob") as bob, subscribed(bob, 56, redis) as stream:
        await eventually(lambda: asyncio.sleep(0, stream.comments == ["connected"]))


@pytest.mark.parametrize("params", [{}, {"client_account_id": "abc"}, {"client_account_id": "4.2"}])
async def test_a_subscriber_without_an_integer_client_account_id_gets_400_naming_it(
    acme: httpx.AsyncClient, params: dict[str, Any]
) -> None:
    stream = await refused(acme, params)
    assert stream.status == 400
    assert "client_account_id" in json.loads(stream.body)["error"]["message"]


async def test_a_subscriber_without_a_key_gets_401(stack: Api) -> None:
    async with stack.client(None) as anonymous:
        stream = await refused(anonymous, {"client_account_id": new_account()})
    assert stream.status == 401


async def test_a_subscriber_gets_503_while_redis_is_unreachable(
    stack: Api, servers: Servers
) -> None:
    dead = stack.settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    api = await servers.api(dead)
    async with api.client("acme") as client:
        stream = await refused(client, {"client_account_id": new_account()})
    assert stream.status == 503
    assert "Redis" in json.loads(stream.body)["error"]["message"]


async def test_another_organisations_task_of_the_same_account_number_is_invisible(
    stack: Api, acme: httpx.AsyncClient, redis: aioredis.Redis
) -> None:
    account = new_account()
    async with stack.client("globex") as globex, subscribed(globex, account, redis) as stream:
        await start(acme, account, {"sleep": 1.0})
        await eventually(lambda: listed(acme, account))
        assert await listed(globex, account) == []
        await asyncio.sleep(1.5)  # acme's task has ended and sent both events meanwhile
        assert await listed(acme, account) == []
        assert stream.events == []
