"""Server-Sent Events of a client account, fed by the Redis event bus.

Each stream subscribes in a task of its own, outside the response's cancel scope, so that
when the client goes the subscription still gets to UNSUBSCRIBE and hand its connection back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import anyio
import redis.exceptions

from api.render.system_tasks import sse_comment, sse_event
from tasklane.running_view import EventBus

log = logging.getLogger("tasklane.api")
# Proxies and load balancers drop connections idle for a minute or so; a comment keeps it busy.
KEEPALIVE_S = 15.0
# How long a closing stream waits for its subscription to unsubscribe cleanly.
CLOSE_WAIT_S = 2.0
CONNECT_WAIT_S = 5.0
REDIS_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


async def event_stream(events: EventBus, organisation: str, account: int) -> AsyncIterator[str]:
    """The account's events as SSE frames, with keep-alive comments, until the client leaves
    (Starlette cancels this generator then) or the subscription is lost."""
    queue: asyncio.Queue[tuple[str, dict[str, Any]] | None] = asyncio.Queue()
    # A task of its own, outside the response's cancel scope, so that when the client goes
    # the subscription still gets to UNSUBSCRIBE and hand its connection back.
    subscribed = asyncio.Event()
    pump = asyncio.create_task(_pump(events, organisation, account, queue, subscribed))
    try:
        # `connected` only once Redis has the subscription: a client that then reads the
        # list to catch up misses no event between the two.
        waiting = asyncio.create_task(subscribed.wait())
        await asyncio.wait({waiting, pump}, timeout=CONNECT_WAIT_S, return_when="FIRST_COMPLETED")
        waiting.cancel()
        yield sse_comment("connected")
        while True:
            try:
                item = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
            except TimeoutError:
                yield sse_comment("keep-alive")
                continue
            if item is None:
                yield sse_comment("the event source closed; reconnect to resume")
                return
            yield sse_event(*item)
    finally:
        pump.cancel()
        with anyio.CancelScope(shield=True):
            await asyncio.wait({pump}, timeout=CLOSE_WAIT_S)


async def _pump(
    events: EventBus,
    organisation: str,
    account: int,
    queue: asyncio.Queue[tuple[str, dict[str, Any]] | None],
    subscribed: asyncio.Event,
) -> None:
    # Unbounded: an account's events are a few per task, and a stalled client is cut off by
    # its own connection closing long before this grows.
    try:
        # Account numbers are each organisation's own: only this one's events.
        async for item in events.subscribe(account, organisation, on_subscribed=subscribed.set):
            queue.put_nowait(item)
    except REDIS_DOWN as e:
        log.warning("events of client account %s: subscription lost: %s", account, e)
    except Exception:
        log.exception("events of client account %s: subscription failed", account)
    finally:
        queue.put_nowait(None)
