"""`tasklane dev`: the Temporal dev server, Redis, one worker and the API on this machine.

Every child dies with this process (Linux parent-death signal), so even a SIGKILL of
`tasklane dev` leaves nothing behind; Temporal (SQLite file) and Redis (append-only file)
keep their data under the data dir, so a restart picks every task up where it was.
"""

from __future__ import annotations

import argparse
import ctypes
import hashlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tasklane import binaries

PR_SET_PDEATHSIG = 1
STOP_TIMEOUT_S = 15.0


def _die_with_parent() -> None:
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


# The System tasks seed's types, calling `tasklane receive --port 9000` (edit the URLs to call
# real services); a JSON object answered by the URL is the task's result_meta.
SEED_SYSTEM_TASK_TYPES = "".join(
    f'\n[[task_types]]\nname = "{name}"\nurl = "http://127.0.0.1:9000/system-tasks/{path}"\n'
    + (f'ttl = "{ttl}"\n' if ttl else "# ttl: per task (the seed says it varies)\n")
    + "retry = {max_attempts = 3}\n"
    for name, path, ttl in [
        ("FETCH_TAX_CARDS", "fetch-tax-cards", "PT10M"),
        ("FETCH_GARNISHMENTS", "fetch-garnishments", "PT10M"),
        ("VAT_RETURN_SYNC", "vat-return-sync", "PT60M"),
        ("AMELDING_SUBMIT", "amelding-submit", None),
    ]
)


def ensure_dev_config(data_dir: Path) -> tuple[Path, str]:
    """The dev config and its token, written on first run and kept afterwards."""
    config_path = data_dir / "config.toml"
    token_path = data_dir / "dev-token"
    if config_path.exists() and token_path.exists():
        return config_path, token_path.read_text().strip()
    token = "tl_dev_" + secrets.token_hex(16)
    signing_secret = "whsec_" + secrets.token_urlsafe(24).replace("-", "A").replace("_", "B")
    config_path.write_text(
        "# Written by `tasklane dev`. Dev only: private targets (localhost) are allowed.\n"
        "allow_private_targets = true\n\n"
        "[[api_keys]]\n"
        f'token_sha256 = "{hashlib.sha256(token.encode()).hexdigest()}"\n'
        'organisation = "dev"\n'
        'user = "Developer"\n\n'
        "[signing]\n"
        f'secrets = ["{signing_secret}"]\n\n'
        "# A Python-handler type to try typed tasks and results (ricloud `POST /tasks`).\n"
        "[[task_types]]\n"
        'name = "echo"\n'
        'handler = "tasklane.example_handlers:echo"\n' + SEED_SYSTEM_TASK_TYPES
    )
    token_path.write_text(token + "\n")
    token_path.chmod(0o600)
    return config_path, token


class DevStack:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.data_dir: Path = args.data_dir.resolve()
        self.children: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.stopping = False

    def run(self) -> int:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "logs").mkdir(exist_ok=True)
        (self.data_dir / "redis").mkdir(exist_ok=True)
        if self.args.config:
            config_path, token = self.args.config.resolve(), None
        else:
            config_path, token = ensure_dev_config(self.data_dir)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._on_signal)
        try:
            self._start_all(config_path)
            self._banner(token, config_path)
            return self._watch()
        except KeyboardInterrupt:
            return 0
        except Exception as e:  # noqa: BLE001 - report any start-up failure plainly
            print(f"tasklane dev: {e}", file=sys.stderr)
            return 1
        finally:
            self._stop_all()

    def _start_all(self, config_path: Path) -> None:
        a = self.args
        self._spawn(
            "temporal",
            binaries.temporal_dev_server_argv(
                a.temporal_port, ui_port=a.ui_port, db_file=self.data_dir / "temporal.db"
            ),
        )
        self._spawn(
            "redis", binaries.redis_server_argv(a.redis_port, self.data_dir / "redis", persist=True)
        )
        _wait_for_port(a.temporal_port, "Temporal", 60)
        _wait_for_port(a.redis_port, "Redis", 20)
        env = {
            **os.environ,
            "TASKLANE_CONFIG": str(config_path),
            "TASKLANE_TEMPORAL_ADDRESS": f"127.0.0.1:{a.temporal_port}",
            "TASKLANE_REDIS_URL": f"redis://127.0.0.1:{a.redis_port}/0",
            "TASKLANE_API_HOST": "127.0.0.1",
            "TASKLANE_API_PORT": str(a.port),
        }
        self._spawn("worker", [sys.executable, "-m", "tasklane", "worker"], env)
        self._spawn("api", [sys.executable, "-m", "tasklane", "api"], env)
        _wait_for_http(f"http://127.0.0.1:{a.port}/healthz", "the API", 60)

    def _spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> None:
        log = (self.data_dir / "logs" / f"{name}.log").open("ab")
        child = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, env=env, preexec_fn=_die_with_parent
        )
        self.children.append((name, child))

    def _banner(self, token: str | None, config_path: Path) -> None:
        a = self.args
        print(
            "Tasklane is up.\n"
            f"  API        http://127.0.0.1:{a.port}   (OpenAPI docs at /docs)\n"
            f"  Web UI     http://127.0.0.1:{a.ui_port}\n"
            f"  Temporal   127.0.0.1:{a.temporal_port}   Redis 127.0.0.1:{a.redis_port}\n"
            f"  Config     {config_path}\n"
            f"  Logs       {self.data_dir / 'logs'}\n"
            + (f"  Dev token  {token}\n" if token else "  Tokens     from your config\n")
            + "Ctrl-C stops everything; tasks are kept for the next start.",
            flush=True,
        )

    def _watch(self) -> int:
        while not self.stopping:
            for name, child in self.children:
                if child.poll() is not None:
                    print(
                        f"tasklane dev: {name} exited with {child.returncode}; "
                        f"see {self.data_dir / 'logs' / (name + '.log')}",
                        file=sys.stderr,
                    )
                    return 1
            time.sleep(0.5)
        return 0

    def _on_signal(self, signum: int, frame: object) -> None:
        self.stopping = True

    def _stop_all(self) -> None:
        # API first (no new tasks), then the worker (finishes in-flight attempts), then stores.
        for _, child in reversed(self.children):
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
                try:
                    child.wait(timeout=STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()


def _wait_for_port(port: int, what: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not listen on port {port} within {timeout_s:g} s")


def _wait_for_http(url: str, what: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{what} did not answer {url} within {timeout_s:g} s")
