"""Session fixtures: a real Temporal dev server, a real Redis, a recording HTTP receiver, and
a Tasklane worker and API served in this process on free ports."""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.app import create_app
from tasklane import binaries, search_attributes
from tasklane.client import TasklaneClient
from tasklane.config import Settings
from tests.receiver import Receiver
from worker.main import build_worker

SIGNING_SECRET = "whsec_dGVzdC1zaWduaW5nLXNlY3JldC0xMjM0NTY3OA=="
OLD_SIGNING_SECRET = "old-plain-secret"
TOKENS = {"acme": "tok_acme_" + "a" * 24, "globex": "tok_globex_" + "b" * 24}
# More keys by name: (organisation, user, extra TOML lines). `acme` and `globex` belong to
# users "acme user" and "globex user" and may see every account and project.
PROJECT = "a88f74e314fe4a326ce78aee7702d292"
OTHER_PROJECT = "0" * 32
KEYS: dict[str, tuple[str, str | None, str]] = {
    "acme": ("acme", "acme user", ""),
    "globex": ("globex", "globex user", ""),
    "bob": ("acme", "Bob Marley", f'projects = ["{PROJECT}"]\nclient_accounts = [56, 57]\n'),
    "alice": ("acme", "Alice", ""),
    "acme_service": ("acme", None, ""),
}
TOKENS.update({name: f"tok_{name}_" + "c" * 24 for name in KEYS if name not in TOKENS})
REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# Python-handler types every test stack knows (see tests/handlers.py).
TASK_TYPES = """
[[task_types]]
name = "SCRIPTED"
handler = "tests.handlers:scripted"
retry = {max_attempts = 2, backoff = "fixed", initial_delay = 0.2}
timeout = "PT30S"

[[task_types]]
name = "SHORT_RETENTION"
handler = "tests.handlers:scripted"
retry = {max_attempts = 1}
result_retention = "PT3S"

[[task_types]]
name = "SHORT_TTL"
handler = "tests.handlers:scripted"
retry = {max_attempts = 2, backoff = "fixed", initial_delay = 0.5}
ttl = "PT2S"
"""


def write_config(path: Path, *, allow_private: bool = True) -> Path:
    keys = "".join(
        f'[[api_keys]]\ntoken_sha256 = "{hashlib.sha256(TOKENS[name].encode()).hexdigest()}"\n'
        f'organisation = "{org}"\n' + (f'user = "{user}"\n' if user else "") + f"{extra}\n"
        for name, (org, user, extra) in KEYS.items()
    )
    path.write_text(
        f"allow_private_targets = {'true' if allow_private else 'false'}\n\n{keys}"
        f'[signing]\nsecrets = ["{SIGNING_SECRET}", "{OLD_SIGNING_SECRET}"]\n\n'
        "[limits]\nmax_payload_bytes = 262144\n\n"
        "[results]\nmax_bytes = 65536\nmax_count = 5\n" + TASK_TYPES
    )
    return path


async def eventually(check: Callable[[], Awaitable[Any]], timeout_s: float = 20.0) -> Any:
    """Poll `check` until it returns something truthy; fail with its last value."""
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.1)
    raise AssertionError(f"condition not met within {timeout_s} s; last value: {last!r}")


@pytest.fixture(scope="session")
async def temporal() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=binaries.temporal_cli(),
        search_attributes=search_attributes.ALL,
        dev_server_log_level="error",
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    port = free_port()
    server = subprocess.Popen(
        [binaries.redis_server(), "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    server.terminate()
    server.wait()


@pytest.fixture(scope="session")
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture(scope="session")
def config_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("config")


def make_settings(
    temporal: WorkflowEnvironment, redis_url: str, config: Path, queue: str
) -> Settings:
    return Settings(
        temporal_address=temporal.client.service_client.config.target_host,
        config=config,
        task_queue=queue,
        redis_url=redis_url,
        graceful_shutdown_s=5,
        workflow_sandbox=True,  # every test workflow runs sandboxed: determinism is checked
        cancel_wait_s=3,
    )


@dataclass
class Api:
    url: str
    settings: Settings

    def client(self, key: str | None = "acme", scheme: str = "Bearer") -> httpx.AsyncClient:
        """An HTTP client calling as the key named `key` (see KEYS); None sends no key."""
        headers = {"Authorization": f"{scheme} {TOKENS[key]}"} if key else {}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=30)


@dataclass
class Servers:
    """Starts API servers and workers for a test; stops them at its end."""

    temporal: WorkflowEnvironment
    redis_url: str
    config_dir: Path

    def __post_init__(self) -> None:
        self._stoppers: list[Callable[[], Awaitable[None]]] = []

    def settings(self, queue: str, *, allow_private: bool = True) -> Settings:
        name = f"config-{'private' if allow_private else 'public'}.toml"
        config = self.config_dir / name
        if not config.exists():
            write_config(config, allow_private=allow_private)
        return make_settings(self.temporal, self.redis_url, config, queue)

    async def api(self, settings: Settings) -> Api:
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
        )
        task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.02)

        async def stop() -> None:
            server.should_exit = True
            await task

        self._stoppers.append(stop)
        return Api(f"http://127.0.0.1:{port}", settings)

    async def worker(self, settings: Settings) -> Worker:
        client = await Client.connect(
            settings.temporal_address, namespace=settings.temporal_namespace
        )
        worker = build_worker(client, settings)
        task = asyncio.create_task(worker.run())

        async def stop() -> None:
            if not task.done():
                await worker.shutdown()
            await task

        self._stoppers.append(stop)
        return worker

    def worker_process(
        self, settings: Settings, extra_env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """A `tasklane worker` in its own process, so a test can SIGKILL it."""
        env = {
            **os.environ,
            "TASKLANE_CONFIG": str(settings.config),
            "TASKLANE_TEMPORAL_ADDRESS": settings.temporal_address,
            "TASKLANE_TASK_QUEUE": settings.task_queue,
            "TASKLANE_REDIS_URL": settings.redis_url,
            "TASKLANE_WORKFLOW_SANDBOX": "true",
            **(extra_env or {}),
        }
        process = subprocess.Popen([sys.executable, "-m", "tasklane", "worker"], env=env, cwd=REPO)

        async def stop() -> None:
            if process.poll() is None:
                process.kill()
            process.wait()

        self._stoppers.append(stop)
        return process

    async def stop_all(self) -> None:
        for stop in reversed(self._stoppers):
            await stop()


@pytest.fixture
async def servers(
    temporal: WorkflowEnvironment, redis_url: str, config_dir: Path
) -> AsyncIterator[Servers]:
    s = Servers(temporal, redis_url, config_dir)
    yield s
    await s.stop_all()


@pytest.fixture(scope="session")
async def stack(
    temporal: WorkflowEnvironment, redis_url: str, config_dir: Path
) -> AsyncIterator[Api]:
    """The shared stack most tests use: one worker and one API on a session task queue."""
    s = Servers(temporal, redis_url, config_dir)
    settings = s.settings(f"tasklane-{uuid.uuid4().hex[:8]}")
    await s.worker(settings)
    api = await s.api(settings)
    yield api
    await s.stop_all()


@pytest.fixture
async def acme(stack: Api) -> AsyncIterator[httpx.AsyncClient]:
    async with stack.client("acme") as client:
        yield client


@pytest.fixture
async def tasklane_client(stack: Api, temporal: WorkflowEnvironment) -> TasklaneClient:
    """The Python API, on the shared stack's task queue."""
    return TasklaneClient(
        temporal.client, config=stack.settings.tasklane, task_queue=stack.settings.task_queue
    )


@pytest.fixture
async def globex(stack: Api) -> AsyncIterator[httpx.AsyncClient]:
    async with stack.client("globex") as client:
        yield client


@pytest.fixture
def path() -> str:
    """A receiver path of this test's own."""
    return f"/t/{uuid.uuid4().hex}"
