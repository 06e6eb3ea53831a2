"""With TASKLANE_OTEL_ENABLED one trace runs from the API request through the workflow to
the attempt (spans caught in memory instead of sent over OTLP)."""

from __future__ import annotations

import asyncio
import uuid

from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tasklane import tracing
from tasklane.config import Settings
from tasklane.temporal_client import connect
from tests.api.test_taskhook_lifecycle import wait_status
from tests.conftest import Servers
from tests.receiver import Receiver
from worker.main import build_worker


async def test_one_trace_from_the_request_to_the_attempt(
    servers: Servers, receiver: Receiver, path: str
) -> None:
    base = servers.settings(f"traced-{uuid.uuid4().hex[:8]}")
    settings = base.model_copy(update={"otel_enabled": True})
    exporter = InMemorySpanExporter()
    assert tracing.start(settings, "test", exporter=exporter)
    worker = build_worker(await connect(settings), settings)
    running = asyncio.create_task(worker.run())
    try:
        api = await servers.api(settings)
        async with api.client() as client:
            answer = await client.post("/v1/tasks", json={"target": receiver.script(path, 200)})
            await wait_status(client, answer.json()["id"], "completed", timeout_s=30)
    finally:
        await worker.shutdown()
        await running
    trace.get_tracer_provider().force_flush()  # type: ignore[attr-defined]
    spans = exporter.get_finished_spans()
    by_name = {span.name: span for span in spans}
    request = by_name["POST /v1/tasks"]
    wanted = ["StartWorkflow:TaskWorkflow", "RunWorkflow:TaskWorkflow", "RunActivity:call_target"]
    assert set(wanted) <= set(by_name), sorted(by_name)
    assert {by_name[n].context.trace_id for n in wanted} == {request.context.trace_id}


def test_tracing_is_off_by_default() -> None:
    settings = Settings()
    assert settings.otel_enabled is False
    assert tracing.client_interceptors(settings) == []
    assert tracing.start(settings, "test") is False
