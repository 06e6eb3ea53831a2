"""`tasklane dev` as a user runs it: a real process, driven over HTTP, killed and restarted."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import REPO, eventually, free_port
from tests.receiver import Receiver


class DevProcess:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.ports = {name: free_port() for name in ("port", "temporal", "ui", "redis")}
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> str:
        p = self.ports
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tasklane",
                "dev",
                "--port",
                str(p["port"]),
                "--temporal-port",
                str(p["temporal"]),
                "--ui-port",
                str(p["ui"]),
                "--redis-port",
                str(p["redis"]),
                "--data-dir",
                str(self.data_dir),
            ],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        banner = []
        assert self.process.stdout is not None
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            banner.append(line)
            if line.startswith("Ctrl-C"):
                return "".join(banner)
        raise AssertionError("tasklane dev did not come up:\n" + "".join(banner))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports['port']}"

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=30)


def ports_closed(ports: list[int]) -> bool:
    import socket

    for port in ports:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return False
    return True


async def test_dev_prints_urls_and_token_and_runs_a_task(
    tmp_path: Path, receiver: Receiver
) -> None:
    dev = DevProcess(tmp_path / "data")
    try:
        banner = dev.start()
        assert dev.url in banner and f"127.0.0.1:{dev.ports['ui']}" in banner
        token = (tmp_path / "data" / "dev-token").read_text().strip()
        assert token in banner
        async with httpx.AsyncClient(
            base_url=dev.url, headers={"Authorization": f"Bearer {token}"}
        ) as c:
            task = (
                await c.post("/v1/tasks", json={"target": receiver.script("/dev/a", 200)})
            ).json()

            async def completed() -> bool:
                return (await c.get(f"/v1/tasks/{task['id']}")).json()["status"] == "completed"

            assert await eventually(completed, timeout_s=30)
            ui = await c.get(f"http://127.0.0.1:{dev.ports['ui']}/")
            assert ui.status_code == 200
    finally:
        dev.stop(signal.SIGINT)
    assert dev.process is not None and dev.process.returncode == 0
    assert ports_closed(list(dev.ports.values()))


async def test_sigkill_with_100_scheduled_tasks_then_restart_runs_all(
    tmp_path: Path, receiver: Receiver
) -> None:
    dev = DevProcess(tmp_path / "data")
    path = f"/dev/kill-{tmp_path.name}"
    receiver.script(path, 200)
    try:
        dev.start()
        token = (tmp_path / "data" / "dev-token").read_text().strip()
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=dev.url, headers=headers, timeout=30) as c:
            body = {"target": receiver.url(path), "execute_after": "PT15S"}
            answers = await asyncio.gather(*(c.post("/v1/tasks", json=body) for _ in range(100)))
        assert [a.status_code for a in answers] == [201] * 100
        ids = {a.json()["id"] for a in answers}
        assert dev.process is not None
        dev.process.kill()  # SIGKILL: no clean-up runs; the children die with it
        dev.process.wait()
        await eventually(lambda: asyncio.sleep(0, ports_closed(list(dev.ports.values()))))
        assert receiver.at(path) == []

        dev.start()

        async def all_ran() -> bool:
            return {r.headers["X-Tasklane-Task-Id"] for r in receiver.at(path)} == ids

        assert await eventually(all_ran, timeout_s=90)
        assert len(receiver.at(path)) == 100
    finally:
        dev.stop()


async def test_url_groups_survive_a_restart_and_a_group_task_fans_out_after_it(
    tmp_path: Path, receiver: Receiver
) -> None:
    dev = DevProcess(tmp_path / "data")
    path = f"/dev/group-{tmp_path.name}"
    urls = [receiver.script(f"{path}/{i}", 200) for i in range(3)]
    try:
        dev.start()
        token = (tmp_path / "data" / "dev-token").read_text().strip()
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=dev.url, headers=headers, timeout=30) as c:
            made = await c.post("/v1/url-groups", json={"name": "hooks", "urls": urls})
            assert made.status_code == 201, made.text
            body = {"target": "group:hooks", "execute_after": "PT10S"}
            task = (await c.post("/v1/tasks", json=body)).json()
        dev.stop()

        dev.start()
        async with httpx.AsyncClient(base_url=dev.url, headers=headers, timeout=30) as c:
            assert (await c.get(f"/v1/url-groups/{made.json()['id']}")).json() == made.json()
            listed = (await c.get("/v1/url-groups")).json()
            assert listed["total"] == 1 and listed["url_groups"][0]["name"] == "hooks"

            async def fanned_out() -> dict | None:
                found = (await c.get(f"/v1/tasks/{task['id']}")).json()
                return found if found["status"] == "completed" else None

            done = await eventually(fanned_out, timeout_s=60)
        assert done["group_info"]["completed"] == 3
        assert all(len(receiver.at(f"{path}/{i}")) == 1 for i in range(3))
    finally:
        dev.stop()
