"""Prometheus metrics of one API process, at `/metrics`: requests by route, method and
status with their latencies, and the tasks this process created, by dialect and type.

Task ends are counted where they happen, by the workers (`tasklane_tasks_finished` on each
worker's own metrics port, see worker/main.py); several API replicas are scraped one by one.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

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
    metrics = ApiMetrics()
    app.state.metrics = metrics

    @app.middleware("http")
    async def measure(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started, status = time.perf_counter(), 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            # An unexpected error is answered 500 outside this middleware, after the
            # re-raise: it is counted here as that 500. The route's template
            # (`/v1/tasks/{task_id}`), never the raw path: ids would make a series per task.
            template = getattr(request.scope.get("route"), "path", "unmatched")
            method = request.method if request.method in METHODS else "other"
            metrics.latency.labels(template, method).observe(time.perf_counter() - started)
            metrics.requests.labels(template, method, str(status)).inc()

    app.include_router(router)


@router.get("/metrics")
async def scrape(request: Request) -> Response:
    registry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def count_created(request: Request, dialect: str, task_type: str) -> None:
    request.app.state.metrics.tasks_created.labels(dialect, task_type).inc()
