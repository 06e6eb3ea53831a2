"""A fresh, throwaway stack on free loopback ports: Temporal dev server, Redis, worker, API."""

from __future__ import annotations

import asyncio
import ctypes
import hashlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from temporalio.client import Client

from tasklane import binaries

REPO_ROOT = Path(__file__).resolve().parent.parent
PR_SET_PDEATHSIG = 1
STOP_TIMEOUT_S = 10.0
START_TIMEOUT_S = 90.0  # generous: the machine is shared and the first start compiles nothing
# The task type of the System tasks phase: one attempt, an HTTP call the receiver holds until
# the phase is measured. Its timeout is above the receiver's HOLD_MAX_S, so the receiver
# always answers first; no retry, so a failure cannot keep the phase waiting.
SYSTEM_TASK_TYPE = "BENCH_HOLD"
HOLD_TIMEOUT = "PT2M"
HOLD_TTL = "PT1M"


class StackError(RuntimeError):
    """The stack could not be brought up, or a child died."""


@dataclass
class Child:
    """One child process and its log."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid


def _die_with_parent() -> None:
    # Even a SIGKILL of the benchmark must not leave servers behind on the machine.
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def free_ports(count: int) -> list[int]:
    """Distinct free loopback ports (held together while picking, so never the same twice)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


class Stack:
    """Starts, watches and stops every child; `stop_all` is safe to call at any time."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.children: list[Child] = []
        self.token = "tl_bench_" + secrets.token_hex(16)
        self.task_queue = f"bench-{uuid.uuid4().hex[:8]}"
        self.temporal_port, self.redis_port, self.api_port = free_ports(3)
        self.client: Client | None = None
        self.hold_url = ""  # the System tasks type's URL, set by start()

    @property
    def temporal_address(self) -> str:
        return f"127.0.0.1:{self.temporal_port}"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def by_name(self, name: str) -> Child:
        return next(c for c in self.children if c.name == name)

    async def start(self, hold_url: str) -> None:
        """Temporal and Redis, then the Tasklane worker and API once those answer.

        `hold_url` is the URL of the SYSTEM_TASK_TYPE task type (the receiver's held path).
        """
        self.hold_url = hold_url
        self.spawn("temporal", binaries.temporal_dev_server_argv(self.temporal_port))
        self.spawn(
            "redis", binaries.redis_server_argv(self.redis_port, self.workdir, persist=False)
        )
        await self.wait_port(self.temporal_port, "temporal")
        await self.wait_port(self.redis_port, "redis")
        self.client = await self._connect()
        env = self._tasklane_env()
        self.spawn("worker", [sys.executable, "-m", "tasklane", "worker"], env)
        self.spawn("api", [sys.executable, "-m", "tasklane", "api"], env)
        await self.wait_http(f"{self.api_url}/healthz", "api")
        await self.wait_log("worker", "worker polling task queue")

    def _tasklane_env(self) -> dict[str, str]:
        config = self.workdir / "tasklane.toml"
        digest = hashlib.sha256(self.token.encode()).hexdigest()
        config.write_text(
            "allow_private_targets = true\n\n"
            "[[api_keys]]\n"
            f'token_sha256 = "{digest}"\n'
            'organisation = "bench"\n\n'
            "[[task_types]]\n"
            f'name = "{SYSTEM_TASK_TYPE}"\n'
            f'url = "{self.hold_url}"\n'
            f'timeout = "{HOLD_TIMEOUT}"\n'
            f'ttl = "{HOLD_TTL}"\n'
            "retry = {max_attempts = 1}\n"
        )
        return {
            **os.environ,
            "TASKLANE_CONFIG": str(config),
            "TASKLANE_TEMPORAL_ADDRESS": self.temporal_address,
            "TASKLANE_REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "TASKLANE_TASK_QUEUE": self.task_queue,
            "TASKLANE_API_HOST": "127.0.0.1",
            "TASKLANE_API_PORT": str(self.api_port),
        }

    def spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> Child:
        """Start a child in its own session (so its whole group can be signalled), log to a file."""
        log = self.workdir / f"{name}.log"
        env = dict(env or os.environ)
        # The benchmark's own modules must import in children whatever the caller's cwd.
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
        with log.open("ab") as out:
            popen = subprocess.Popen(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=REPO_ROOT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        child = Child(name, popen, log)
        self.children.append(child)
        return child

    def check_alive(self, child: Child) -> None:
        """Raise with the log's tail if `child` has exited."""
        code = child.popen.poll()
        if code is not None:
            raise StackError(f"{child.name} exited with code {code}\n{self.tail(child)}")

    async def _poll(
        self, child: Child, what: str, timeout_s: float, ready: Callable[[], Awaitable[bool]]
    ) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.check_alive(child)
            if await ready():
                return
            await asyncio.sleep(0.2)
        raise StackError(f"{child.name}: {what} not within {timeout_s:g} s\n{self.tail(child)}")

    async def wait_port(self, port: int, name: str, timeout_s: float = START_TIMEOUT_S) -> None:
        """Wait until `port` accepts connections while `name` stays alive."""

        async def ready() -> bool:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                return False
            writer.close()
            return True

        await self._poll(self.by_name(name), f"listening on {port}", timeout_s, ready)

    async def wait_http(self, url: str, name: str, timeout_s: float = START_TIMEOUT_S) -> None:
        """Wait until GET `url` answers 200."""
        async with httpx.AsyncClient(timeout=2.0) as http:

            async def ready() -> bool:
                try:
                    return (await http.get(url)).status_code == 200
                except httpx.HTTPError:
                    return False

            await self._poll(self.by_name(name), f"200 from {url}", timeout_s, ready)

    async def wait_log(self, name: str, text: str, timeout_s: float = START_TIMEOUT_S) -> None:
        """Wait until `text` shows in the child's log (its only readiness signal)."""
        child = self.by_name(name)

        async def ready() -> bool:
            return text in child.log.read_text(errors="replace")

        await self._poll(child, f"'{text}' in its log", timeout_s, ready)

    async def _connect(self, timeout_s: float = START_TIMEOUT_S) -> Client:
        # The port opens before the frontend serves; retry until a real client connects.
        deadline = time.monotonic() + timeout_s
        while True:
            self.check_alive(self.by_name("temporal"))
            try:
                return await asyncio.wait_for(Client.connect(self.temporal_address), 10)
            except Exception as e:  # noqa: BLE001 - any failure here means "not yet"
                if time.monotonic() > deadline:
                    raise StackError(f"no Temporal client within {timeout_s:g} s: {e}") from e
            await asyncio.sleep(0.5)

    def stop(self, child: Child) -> None:
        """SIGTERM the child's process group, SIGKILL it after STOP_TIMEOUT_S."""
        if child.popen.poll() is not None:
            return
        _signal_group(child.pid, signal.SIGTERM)
        try:
            child.popen.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            # Not yet reaped, so its pid (= its group id) cannot have been reused.
            _signal_group(child.pid, signal.SIGKILL)
            child.popen.wait(timeout=STOP_TIMEOUT_S)

    def stop_all(self) -> None:
        """API first (no new work), then workers, then the stores; never raises."""
        for child in reversed(self.children):
            try:
                self.stop(child)
            except Exception as e:  # noqa: BLE001 - keep stopping the others
                print(f"could not stop {child.name} (pid {child.pid}): {e}", file=sys.stderr)

    def tail(self, child: Child, lines: int = 30) -> str:
        try:
            text = child.log.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return f"(no log at {child.log})"
        return f"--- last {len(text)} lines of {child.log} ---\n" + "\n".join(text)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
