"""`/healthz` and `/readyz` against a Temporal and a Redis of the test's own, stopped and
started again under a running API."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import httpx

from tasklane import binaries
from tasklane.config import Settings
from tests.conftest import Servers, eventually, free_port, write_config

# The bound: /readyz turns within 5 s of Temporal or Redis stopping.
TURN_S = 5.0


class Process:
    """A server the test can stop (SIGKILL) and start again on the same port."""

    def __init__(self, argv: list[str], port: int) -> None:
        self.argv, self.port = argv, port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise AssertionError(f"{self.argv[0]} did not listen on {self.port}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


async def test_readyz_follows_redis_and_temporal(servers: Servers, tmp_path: Path) -> None:
    temporal_port, redis_port = free_port(), free_port()
    temporal = Process(binaries.temporal_dev_server_argv(temporal_port), temporal_port)
    redis = Process(binaries.redis_server_argv(redis_port, tmp_path, persist=False), redis_port)
    temporal.start()
    redis.start()
    try:
        settings = Settings(
            temporal_address=f"127.0.0.1:{temporal_port}",
            redis_url=f"redis://127.0.0.1:{redis_port}/0",
            config=write_config(tmp_path / "config.toml"),
            task_queue="readiness",
        )
        api = await servers.api(settings)
        async with httpx.AsyncClient(base_url=api.url, timeout=10) as client:

            async def status() -> int:
                return (await client.get("/readyz")).status_code

            async def turned(ready: bool, within_s: float) -> dict:
                """Wait until /readyz says `ready` (fails after `within_s`); its body."""
                wanted = 200 if ready else 503

                async def reached() -> bool:
                    return await status() == wanted

                await eventually(reached, timeout_s=within_s)
                return (await client.get("/readyz")).json()  # type: ignore[no-any-return]

            assert (await client.get("/healthz")).json() == {"status": "ok"}
            assert await status() == 200
            assert (await client.get("/readyz")).json()["checks"] == {
                "temporal": "ok",
                "redis": "ok",
            }

            redis.stop()
            down = await turned(False, TURN_S)
            assert down["checks"]["temporal"] == "ok" and down["checks"]["redis"] != "ok"
            redis.start()
            await turned(True, 30)

            temporal.stop()
            down = await turned(False, TURN_S)
            assert down["checks"]["redis"] == "ok" and down["checks"]["temporal"] != "ok"
            # The process itself is fine: only readiness says it cannot work.
            assert (await client.get("/healthz")).status_code == 200
            temporal.start()
            await turned(True, 60)
    finally:
        temporal.stop()
        redis.stop()
