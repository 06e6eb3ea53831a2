"""OpenTelemetry tracing, off by default: `TASKLANE_OTEL_ENABLED=true` turns it on for the API
(a span per request, FastAPI instrumentation) and for Temporal calls and workflows
(`temporalio.contrib.opentelemetry`), so one trace runs from `POST /v1/tasks` through the
workflow to each attempt. Spans go over OTLP/HTTP to `OTEL_EXPORTER_OTLP_ENDPOINT` (the
standard variable, default http://localhost:4318), named by `OTEL_SERVICE_NAME`.

With the switch off nothing of OpenTelemetry is imported (it costs a worker's start time).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from tasklane.config import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI
    from opentelemetry.sdk.trace.export import SpanExporter
    from temporalio.client import Interceptor

_provider: Any = None  # the process's TracerProvider once started


def start(settings: Settings, service: str, exporter: SpanExporter | None = None) -> bool:
    """Install the tracer provider when tracing is on (or an exporter is given, for tests);
    whether it is on."""
    global _provider
    if not settings.otel_enabled and exporter is None:
        return False
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()
    name = os.environ.get("OTEL_SERVICE_NAME", f"tasklane-{service}")
    _provider = TracerProvider(resource=Resource.create({"service.name": name}))
    _provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(_provider)
    return True


def stop() -> None:
    """Send the spans still batched: the worker leaves through os._exit, and uvicorn
    re-raises SIGTERM, so neither runs the SDK's atexit flush."""
    if _provider is not None:
        _provider.shutdown()


def client_interceptors(settings: Settings) -> list[Interceptor]:
    """For `Client.connect`: a worker built on that client traces its workflows and
    activities too."""
    if not settings.otel_enabled:
        return []
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return [TracingInterceptor()]


def instrument(app: FastAPI, settings: Settings) -> None:
    if settings.otel_enabled:
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        # Probes and scrapes would be most of the spans (patterns are searched: anchored).
        FastAPIInstrumentor.instrument_app(app, excluded_urls="/healthz$,/readyz$,/metrics$")
