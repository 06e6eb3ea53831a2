"""The running-task view of System tasks, in Redis, and the real-time events beside it.

One key per running task, `tasklane:running:{<account>}:<task id>`, holding the entry as
JSON with the task type's TTL, and one set per client account indexing them; the braces
keep an account's keys in one Redis Cluster slot. An entry whose TTL passes (its worker
died) drops out of the view by itself; the set is trimmed as it is read. Redis is only a
cache here: Temporal is the truth, and `reconcile` rebuilds the view from it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict
from typing import Any

import redis.asyncio as aioredis

from tasklane.running_entries import RunningEntry

PREFIX = "tasklane:running"
# Read the index and every live entry in one round trip, dropping ids whose entry expired.
_READ_VIEW = """
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local entry = redis.call('GET', KEYS[1] .. ':' .. id)
  if entry then table.insert(out, entry) else redis.call('SREM', KEYS[1], id) end
end
return out
"""


def index_key(client_account: int) -> str:
    return f"{PREFIX}:{{{client_account}}}"


def entry_key(client_account: int, task_id: str) -> str:
    return f"{index_key(client_account)}:{task_id}"


def channel(client_account: int) -> str:
    """The seed's Pusher channel name, also our Redis pub/sub channel."""
    return f"data-events;{client_account}"


class RunningView:
    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis
        self._read = redis.register_script(_READ_VIEW)

    async def put(self, entry: RunningEntry, ttl_s: float) -> None:
        """Show the task as running for `ttl_s` unless refreshed."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(
                entry_key(entry.client_account, entry.task_id),
                json.dumps(asdict(entry)),
                px=max(1, int(ttl_s * 1000)),
            )
            pipe.sadd(index_key(entry.client_account), entry.task_id)
            await pipe.execute()

    async def refresh(self, client_account: int, task_id: str, ttl_s: float) -> bool:
        """Extend the entry's TTL; False if it is gone (expired or removed)."""
        key = entry_key(client_account, task_id)
        return bool(await self._redis.pexpire(key, max(1, int(ttl_s * 1000))))

    async def remove(self, client_account: int, task_id: str) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(entry_key(client_account, task_id))
            pipe.srem(index_key(client_account), task_id)
            await pipe.execute()

    async def accounts(self) -> AsyncIterator[int]:
        """Every client account with an index in Redis."""
        async for key in self._redis.scan_iter(match=f"{PREFIX}:{{*}}", count=1000):
            name = key.decode() if isinstance(key, bytes) else key
            if name.endswith("}"):  # an index, not an entry
                yield int(name[len(PREFIX) + 2 : -1])

    async def list(self, client_account: int) -> list[RunningEntry]:
        """The account's running tasks, oldest start first."""
        raw = await self._read(keys=[index_key(client_account)])
        entries = [RunningEntry(**json.loads(item)) for item in raw]
        return sorted(entries, key=lambda e: (e.started_at, e.task_id))


class EventBus:
    """Real-time events per client account, through Redis pub/sub, so that any API replica
    can serve a subscriber of any account."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis

    async def publish(
        self, client_account: int, event: str, data: dict[str, Any], organisation: str = ""
    ) -> int:
        """Send `event` to the account's subscribers; how many API replicas received it.
        The organisation travels beside the data: account numbers are each organisation's."""
        message = json.dumps({"event": event, "data": data, "organisation": organisation})
        return int(await self._redis.publish(channel(client_account), message))

    async def subscribe(
        self,
        client_account: int,
        organisation: str | None = None,
        on_subscribed: Callable[[], object] | None = None,
    ) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """(event, data) for every event of the account (of `organisation`, if given);
        `on_subscribed` is called once Redis has the subscription."""
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(channel(client_account))
        if on_subscribed is not None:
            on_subscribed()
        try:
            async for message in pubsub.listen():
                if message.get("type") != "message":
                    continue
                decoded = json.loads(message["data"])
                if organisation is None or decoded.get("organisation") == organisation:
                    yield decoded["event"], decoded["data"]
        finally:
            try:
                await pubsub.unsubscribe()
            except Exception:  # Redis is gone: nothing to unsubscribe from
                pass
            await pubsub.aclose()  # always hands the connection back
