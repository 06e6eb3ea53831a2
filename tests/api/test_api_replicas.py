"""Several `tasklane api` processes behind any load balancer give the same answers (they keep
no state of their own), and SIGTERM lets an answer in flight finish before the process ends."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tasklane.config import Settings
from tests.conftest import REPO, TOKENS, Servers, free_port
from tests.receiver import Receiver

HEADERS = {"Authorization": f"Bearer {TOKENS['acme']}"}


def api_process(settings: Settings) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "TASKLANE_CONFIG": str(settings.config),
        "TASKLANE_TEMPORAL_ADDRESS": settings.temporal_address,
        "TASKLANE_TASK_QUEUE": settings.task_queue,
        "TASKLANE_REDIS_URL": settings.redis_url,
        "TASKLANE_CANCEL_WAIT_S": "3",
    }
    argv = [sys.executable, "-m", "tasklane", "api", "--port", str(port)]
    process = subprocess.Popen(argv, env=env, cwd=REPO, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return process, f"http://127.0.0.1:{port}"
        time.sleep(0.1)
    process.kill()
    raise AssertionError("tasklane api did not listen")


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait()


async def test_a_task_created_through_one_api_is_read_listed_and_cancelled_through_another(
    servers: Servers, receiver: Receiver, path: str, processes: list
) -> None:
    settings = servers.settings(f"replicas-{uuid.uuid4().hex[:8]}")
    await servers.worker(settings)
    (one, one_url), (two, two_url) = api_process(settings), api_process(settings)
    processes += [one, two]
    tag = f"replica-{uuid.uuid4().hex[:8]}"
    async with (
        httpx.AsyncClient(base_url=one_url, headers=HEADERS, timeout=30) as a,
        httpx.AsyncClient(base_url=two_url, headers=HEADERS, timeout=30) as b,
    ):
        body = {"target": receiver.script(path, 200), "execute_after": "PT1H", "tags": [tag]}
        created = (await a.post("/v1/tasks", json=body)).json()
        read = (await b.get(f"/v1/tasks/{created['id']}")).json()
        assert read["id"] == created["id"] and read["status"] == "scheduled"

        async def listed() -> list[str]:
            page = (await b.get("/v1/tasks", params={"tags": tag})).json()
            return [t["id"] for t in page["tasks"]]

        for _ in range(100):
            if await listed() == [created["id"]]:
                break
            await asyncio.sleep(0.1)
        assert await listed() == [created["id"]]
        cancelled = await b.delete(f"/v1/tasks/{created['id']}")
        assert cancelled.json() == {"id": created["id"], "status": "cancelled"}
        assert (await a.get(f"/v1/tasks/{created['id']}")).json()["status"] == "cancelled"
        assert (await a.delete(f"/v1/tasks/{created['id']}")).status_code == 409


async def test_sigterm_lets_an_answer_in_flight_finish(
    servers: Servers, receiver: Receiver, path: str, processes: list
) -> None:
    # No worker on this queue: a DELETE waits TASKLANE_CANCEL_WAIT_S (3 s), then answers 503.
    settings = servers.settings(f"drain-api-{uuid.uuid4().hex[:8]}")
    api, url = api_process(settings)
    processes.append(api)
    async with httpx.AsyncClient(base_url=url, headers=HEADERS, timeout=30) as client:
        body = {"target": receiver.script(path, 200), "execute_after": "PT1H"}
        task = (await client.post("/v1/tasks", json=body)).json()
        in_flight = asyncio.create_task(client.delete(f"/v1/tasks/{task['id']}"))
        await asyncio.sleep(1)
        api.send_signal(signal.SIGTERM)
        answer = await in_flight
        assert answer.status_code == 503  # answered, not cut off
        assert "no worker" in answer.json()["error"]["message"]
    # uvicorn re-raises the SIGTERM once it has drained, so the exit status says how it
    # was stopped; it must come within uvicorn's graceful timeout (10 s), not by force.
    assert await asyncio.to_thread(api.wait, 15) in (0, -signal.SIGTERM)
