"""OpenTelemetry tracing, off by default: `TASKLANE_OTEL_ENABLED=true` turns it on for the API
(a span per request, FastAPI instrumentation) and for Temporal calls and workflows
(`temporalio.contrib.opentelemetry`), so one trace runs from `POST /v1/tasks` through the
workflow to each attempt. Spans go over OTLP/HTTP to `OTEL_EXPORTER_OTLP_ENDPOINT` (the
standard variable, default http://localhost:4318), named by `OTEL_SERVICE_NAME`."""

from __future__ import annotations

import os

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from temporalio.client import Interceptor
from temporalio.contrib.opentelemetry import TracingInterceptor

from tasklane.config import Settings


def start(settings: Settings, service: str, exporter: SpanExporter | None = None) -> bool:
    """Install the tracer provider when tracing is on (or an exporter is given, for tests);
    whether it is on."""
    if not settings.otel_enabled and exporter is None:
        return False
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()
    name = os.environ.get("OTEL_SERVICE_NAME", f"tasklane-{service}")
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return True


def client_interceptors(settings: Settings) -> list[Interceptor]:
    """For `Client.connect`: a worker built on that client traces its workflows and
    activities too."""
    return [TracingInterceptor()] if settings.otel_enabled else []


def instrument(app: FastAPI, settings: Settings) -> None:
    if settings.otel_enabled:
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        # Probes and scrapes would be most of the spans.
        FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz,metrics")
