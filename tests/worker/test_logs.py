"""A worker's log is JSON, one object per line, and a line about a task carries its id."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

from tests.api.test_taskhook_lifecycle import wait_status
from tests.conftest import REPO, Servers, eventually
from tests.receiver import Receiver


async def test_worker_logs_are_json_lines_with_the_task_id(
    servers: Servers, receiver: Receiver, path: str, tmp_path: Path
) -> None:
    settings = servers.settings(f"logs-{uuid.uuid4().hex[:8]}")
    log_file = tmp_path / "worker.log"
    env = {
        **os.environ,
        "TASKLANE_CONFIG": str(settings.config),
        "TASKLANE_TEMPORAL_ADDRESS": settings.temporal_address,
        "TASKLANE_TASK_QUEUE": settings.task_queue,
        "TASKLANE_REDIS_URL": settings.redis_url,
    }
    worker = start_worker(env, log_file)
    try:
        api = await servers.api(settings)
        async with api.client() as client:
            body = {"target": receiver.script(path, 500), "retry": {"max_attempts": 1}}
            task_id = (await client.post("/v1/tasks", json=body)).json()["id"]
            await wait_status(client, task_id, "failed", timeout_s=30)

        def lines() -> list[dict]:
            return [json.loads(line) for line in log_file.read_text().splitlines() if line]

        async def about_task() -> list[dict]:
            return [line for line in lines() if line.get("task_id") == task_id]

        # The failed attempt is logged by the SDK's activity logger, inside the activity.
        found = await eventually(about_task)
    finally:
        worker.kill()
        worker.wait()
    assert {"time", "level", "logger", "message"} <= set(found[0])
    assert any("ERR_HTTP_STATUS" in line.get("exception", "") for line in found)
    assert all(line["level"] in ("debug", "info", "warning", "error") for line in lines())


def start_worker(env: dict[str, str], log_file: Path) -> subprocess.Popen[bytes]:
    with log_file.open("wb") as out:
        argv = [sys.executable, "-m", "tasklane", "worker"]
        return subprocess.Popen(argv, env=env, cwd=REPO, stderr=out)
