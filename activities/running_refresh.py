"""Keeps a system task's running-view entry alive while its attempt runs.

The entry's TTL is the task type's (as short as a few seconds), so it is refreshed well
within it; when the worker dies the refreshes stop and the entry expires on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from tasklane.running_entries import RunningRef

if TYPE_CHECKING:
    from tasklane.running_view import RunningView

log = logging.getLogger("tasklane.worker")
MAX_REFRESH_EVERY_S = 2.0


@contextlib.asynccontextmanager
async def kept_running(view: RunningView | None, ref: RunningRef | None) -> AsyncIterator[None]:
    if view is None or ref is None:
        yield
        return
    refreshing = asyncio.create_task(_refresh_forever(view, ref))
    try:
        yield
    finally:
        refreshing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await refreshing


async def _refresh_forever(view: RunningView, ref: RunningRef) -> None:
    every_s = min(MAX_REFRESH_EVERY_S, ref.ttl_s / 3)
    while True:
        await asyncio.sleep(every_s)
        try:
            await view.refresh(ref.client_account, ref.task_id, ref.ttl_s)
        except Exception as e:  # Redis is a cache: an attempt never fails for it
            log.warning("running view refresh of %s failed: %s", ref.task_id, e)
