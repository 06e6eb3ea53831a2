"""System tasks' real-time events, also delivered to Pusher (SPEC §4.4).

Through the official `pusher` library, when `[pusher]` is configured. Its client is
synchronous (requests), so each trigger runs in a thread. Like the Redis side, an event that
cannot be sent is logged and lost: it never fails a task.

Channel names: the seed's `data-events;{client_account}` is used as is. Pusher allows
`[A-Za-z0-9_\\-=@,.;]` in channel names (the library checks `\\A[-a-zA-Z0-9_=@,.;]+\\Z`, 200
characters at most), so `;` needs no mapping and clients subscribe to the seed's name.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pusher

from tasklane.config import PusherConfig

log = logging.getLogger("tasklane.worker")


class PusherRelay:
    def __init__(self, config: PusherConfig, *, timeout_s: float = 5.0) -> None:
        self._client = pusher.Pusher(
            app_id=config.app_id,
            key=config.key,
            secret=config.secret,
            cluster=config.cluster,
            host=config.host,
            port=config.port,
            ssl=config.ssl,
            timeout=timeout_s,
        )

    async def trigger(self, channel: str, event: str, data: dict[str, Any]) -> bool:
        """Send `event` on `channel`; False (and a warning) when Pusher did not take it."""
        try:
            await asyncio.to_thread(self._client.trigger, channel, event, data)
        except Exception as e:
            log.warning(
                "sending %s on %s to Pusher failed: %s: %s", event, channel, type(e).__name__, e
            )
            return False
        return True
