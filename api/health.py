"""`/healthz` (the process answers) and `/readyz` (it can do its work: Temporal and Redis
both answer), for load balancers and orchestrators. Both stay out of the OpenAPI document."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import redis.asyncio as aioredis
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from temporalio.client import Client

router = APIRouter(include_in_schema=False)
# Each check answers within this, so /readyz turns within a few seconds of an outage.
CHECK_TIMEOUT_S = 2.0


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """200 when Temporal and Redis both answer, else 503 naming what does not."""
    state = request.app.state
    temporal, redis = await asyncio.gather(
        _check(_temporal(state.store.client)), _check(_redis(state.redis))
    )
    checks = {"temporal": temporal, "redis": redis}
    ready = all(c == "ok" for c in checks.values())
    body: dict[str, Any] = {"status": "ready" if ready else "not ready", "checks": checks}
    return JSONResponse(body, status_code=200 if ready else 503)


async def _check(probe: Any) -> str:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S):
            await probe
        return "ok"
    except TimeoutError:
        return f"no answer within {CHECK_TIMEOUT_S:g} s"
    except Exception as e:  # noqa: BLE001 - any failure is "not ready", with its reason
        return f"{type(e).__name__}: {e}"[:200]


async def _temporal(client: Client) -> None:
    if not await client.service_client.check_health(timeout=timedelta(seconds=CHECK_TIMEOUT_S)):
        raise RuntimeError("the frontend reports itself not serving")


async def _redis(redis: aioredis.Redis) -> None:
    await redis.ping()
