"""The `tasklane` command: `dev` (everything on this machine), `api`, `worker`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="tasklane", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    dev = commands.add_parser("dev", help="run Temporal, Redis, a worker and the API locally")
    dev.add_argument("--port", type=int, default=8000, help="API port")
    dev.add_argument("--temporal-port", type=int, default=7233)
    dev.add_argument("--ui-port", type=int, default=8233)
    dev.add_argument("--redis-port", type=int, default=6379)
    dev.add_argument("--data-dir", type=Path, default=Path(".tasklane"))
    dev.add_argument("--config", type=Path, default=None, help="TOML config (default: dev one)")

    api = commands.add_parser("api", help="serve the REST API (settings from TASKLANE_*)")
    api.add_argument("--host", default=None)
    api.add_argument("--port", type=int, default=None)
    api.add_argument("--access-log", action="store_true")

    commands.add_parser("worker", help="run one worker (settings from TASKLANE_*)")

    receive = commands.add_parser("receive", help="a local endpoint that prints what it gets")
    receive.add_argument("--port", type=int, default=9000)
    receive.add_argument("--status", type=int, default=200, help="HTTP status to answer")
    receive.add_argument("--reply", help="JSON body to answer with, e.g. '{\"count\": 5}'")
    receive.add_argument(
        "--config",
        type=Path,
        default=Path(".tasklane/config.toml"),
        help="config whose [signing] secrets verify notifications",
    )

    args = parser.parse_args(argv)
    if args.command == "dev":
        from tasklane.devstack import DevStack

        sys.exit(DevStack(args).run())
    if args.command == "api":
        _run_api(args)
    if args.command == "receive":
        from tasklane.config import TasklaneConfig
        from tasklane.receive import serve

        config = TasklaneConfig.load(args.config if args.config.exists() else None)
        serve(args.port, config.signing.secrets, args.status, args.reply)
    if args.command == "worker":
        from worker.main import main as worker_main

        worker_main()


def _run_api(args: argparse.Namespace) -> None:
    import uvicorn

    from tasklane import logs, tracing
    from tasklane.config import Settings

    settings = Settings()
    logs.configure(settings.log_format)
    tracing.start(settings, "api")
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=args.host or settings.api_host,
        port=args.port or settings.api_port,
        access_log=args.access_log,
        log_level="info",
        log_config=None,  # the root logger's handler (tasklane.logs), JSON by default
        timeout_graceful_shutdown=10,
    )
