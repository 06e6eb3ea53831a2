"""Prometheus metrics of one API process, at `/metrics`: requests by route, method and
status with their latencies, and the tasks this process created, by dialect and type. The
same middleware names each request's task for the logs (tasklane.logs).

Task ends are counted where they happen, by the workers (`tasklane_tasks_finished` on each
worker's own metrics port, see worker/main.py); several API replicas are scraped one by one.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tasklane import logs
from tasklane.ids import task_id_in_path

router = APIRouter(include_in_schema=False)
# Any other method a client sends shares one label, so labels stay bounded.
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})


class ApiMetrics:
    """One registry per app, so tests can run several apps in one process."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "tasklane_http_requests",
            "HTTP requests answered, by route template, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "tasklane_http_request_duration_seconds",
            "Time to answer, by route template and method",
            ["route", "method"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.tasks_created = Counter(
            "tasklane_tasks_created",
            "Tasks created through this API process, by dialect and task type",
            ["dialect", "type"],
            registry=self.registry,
        )


def install(app: FastAPI) -> None:
    app.state.metrics = ApiMetrics()
    app.add_middleware(RequestContext, metrics=app.state.metrics)
    app.include_router(router)


class RequestContext:
    """Per request: names its task for the logs, then counts and times it by route.

    Plain ASGI rather than `@app.middleware("http")`: that wraps every request in a task
    group and a response stream, which measured about 0.7 ms of API CPU per request each
    (benchmarks.run: API CPU 2.4 s → 3.8 s per 1000 tasks with two of them).
    """

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500
        token = logs.REQUEST_TASK_ID.set(task_id_in_path(scope["path"]))

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            logs.REQUEST_TASK_ID.reset(token)
            # An unexpected error is answered 500 further out, after the re-raise: counted
            # here as that 500. The route's template (`/v1/tasks/{task_id}`), set on the
            # scope by the router, never the raw path: ids would make a series per task.
            template = getattr(scope.get("route"), "path", "unmatched")
            method = scope["method"] if scope["method"] in METHODS else "other"
            self.metrics.latency.labels(template, method).observe(time.perf_counter() - started)
            self.metrics.requests.labels(template, method, str(status)).inc()


@router.get("/metrics")
async def scrape(request: Request) -> Response:
    registry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def count_created(request: Request, dialect: str, task_type: str) -> None:
    request.app.state.metrics.tasks_created.labels(dialect, task_type).inc()
