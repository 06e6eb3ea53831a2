"""Python task handlers the test config registers (`tests.handlers:<name>`).

`scripted` does what its payload says, so one registered type covers many tests:
`{"sleep": s, "heartbeat": {...}, "results": [{"data": ..., "content_type": ...,
"identifier": ...}], "meta": {...}, "fail": "retryable" | "final" | "temporal"}`.
"""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio.exceptions import ApplicationError

from tasklane.handlers import NonRetryableError, TaskContext


async def scripted(ctx: TaskContext) -> dict[str, Any] | None:
    script = ctx.payload or {}
    if "heartbeat" in script:
        ctx.heartbeat(script["heartbeat"])
    await asyncio.sleep(float(script.get("sleep", 0)))
    for result in script.get("results", []):
        data = result["data"]
        if result.get("encoding") == "utf-8":
            data = data.encode()
        await ctx.publish_result(data, result.get("content_type"), result.get("identifier"))
    fail = script.get("fail")
    if fail == "final":
        raise NonRetryableError("the handler gave up")
    if fail == "retryable":
        raise RuntimeError(f"attempt {ctx.attempt} failed")
    if fail == "temporal":
        # Temporal's own error, with details of the handler's: a business failure.
        raise ApplicationError(
            "invoice rejected", {"field": 1}, type="Rejected", non_retryable=True
        )
    meta = script.get("meta")
    return dict(meta, attempt=ctx.attempt, user=ctx.user) if meta is not None else None
