"""The FastAPI application: one Temporal client and one Redis pool per process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis
from fastapi import FastAPI

from api import health, metrics, openapi
from api.errors import install_handlers
from api.routes import metavault, ricloud, system_tasks, taskhook, url_groups
from tasklane import tracing
from tasklane.config import Settings
from tasklane.group_store import GroupStore
from tasklane.result_store import ResultStore
from tasklane.running_view import EventBus, RunningView
from tasklane.task_store import TaskStore
from tasklane.temporal_client import connect


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = await connect(settings)
        app.state.store = TaskStore(client, settings.task_queue, settings.cancel_wait_s)
        app.state.results = ResultStore(app.state.store)
        app.state.groups = GroupStore(client, settings.task_queue, settings.cancel_wait_s)
        # A Redis that hangs must answer 503 quickly, not hold requests: short timeouts for
        # the view; the event bus's subscriptions idle for long, so only a connect timeout.
        redis = aioredis.from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=2)
        pubsub = aioredis.from_url(
            settings.redis_url, socket_connect_timeout=2, health_check_interval=30
        )
        app.state.redis = redis
        app.state.view = RunningView(redis)
        app.state.events = EventBus(pubsub)
        try:
            yield
        finally:
            await redis.aclose()
            await pubsub.aclose()
            tracing.stop()  # uvicorn re-raises SIGTERM after this: no atexit flush

    app = FastAPI(
        title="Tasklane",
        version="0.1.0",
        summary="Durable background tasks over REST, on Temporal.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    tracing.instrument(app, settings)
    install_handlers(app)
    openapi.install(app)
    metrics.install(app)
    app.include_router(health.router)
    app.include_router(taskhook.router)
    app.include_router(url_groups.router)
    app.include_router(ricloud.router)
    app.include_router(metavault.router)
    app.include_router(system_tasks.router)

    return app
