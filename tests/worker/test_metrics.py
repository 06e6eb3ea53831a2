"""Prometheus metrics: a worker's (the SDK's own, and tasks finished by status and type) and
the API's (requests by route, tasks created), read with the Prometheus text parser and
checked against the tasks this test ran."""

from __future__ import annotations

import re
import uuid

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.api.test_taskhook_lifecycle import wait_status
from tests.conftest import Servers, eventually, free_port
from tests.receiver import Receiver


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """Every sample of metric `name`, keyed by its sorted labels."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def by(found: dict[tuple[tuple[str, str], ...], float], **wanted: str) -> float:
    """The sum of the samples whose labels include `wanted`."""
    return sum(v for labels, v in found.items() if set(wanted.items()) <= set(labels))


async def test_task_counters_match_the_tasks_run(
    servers: Servers, receiver: Receiver, path: str
) -> None:
    settings = servers.settings(f"metrics-{uuid.uuid4().hex[:8]}")
    port = free_port()
    servers.worker_process(settings, {"TASKLANE_WORKER_METRICS_PORT": str(port)})
    api = await servers.api(settings)
    ok, bad = receiver.script(f"{path}/ok", 200), receiver.script(f"{path}/bad", 400)
    async with api.client() as client:
        ids = []
        for target in [ok, ok, ok, bad, bad]:
            answer = await client.post("/v1/tasks", json={"target": target})
            assert answer.status_code == 201
            ids.append(answer.json()["id"])
        for task_id in ids:
            await wait_status(client, task_id, "completed", "failed", timeout_s=30)
        assert (await client.get("/v1/tasks/nope")).status_code == 404
        api_text = (await client.get("/metrics")).text

    async def worker_text() -> str | None:
        async with httpx.AsyncClient() as scraper:
            text = (await scraper.get(f"http://127.0.0.1:{port}/metrics")).text
        finished = samples(text, "tasklane_tasks_finished_total")
        return text if by(finished) == 5 else None

    text = await eventually(worker_text)
    finished = samples(text, "tasklane_tasks_finished_total")
    assert by(finished, status="completed", type="http") == 3
    assert by(finished, status="failed", type="http") == 2
    # The SDK's own metrics come out of the same endpoint. Counters are written with their
    # `_total` suffix (the parser would add it to a bare name; dashboards would not).
    assert samples(text, "temporal_workflow_completed_total")
    assert re.search(r"^tasklane_tasks_finished_total\{", text, re.MULTILINE)
    assert re.search(r"^temporal_workflow_completed_total\{", text, re.MULTILINE)

    created = samples(api_text, "tasklane_tasks_created_total")
    assert by(created, dialect="taskhook", type="http") == 5
    requests = samples(api_text, "tasklane_http_requests_total")
    assert by(requests, route="/v1/tasks", method="POST", status="201") == 5
    assert by(requests, route="/v1/tasks/{task_id}", method="GET", status="404") == 1
    latency = samples(api_text, "tasklane_http_request_duration_seconds_count")
    assert by(latency, route="/v1/tasks", method="POST") == 5
