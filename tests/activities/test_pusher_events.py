"""System tasks' events delivered to Pusher through the official `pusher` library.

The library talks to a local stand-in for Pusher's HTTP API (`POST /apps/{app_id}/events`)
that checks each request's signature as Pusher does and refuses a bad one with 401.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import redis.asyncio as aioredis
from temporalio.testing import ActivityEnvironment

from activities.pusher_events import PusherRelay
from activities.system_tasks import RunningEnded, RunningStarted, SystemTaskPublisher
from tasklane.config import PusherConfig, TasklaneConfig
from tasklane.plugin import TasklanePlugin
from tasklane.running_view import EventBus, RunningEntry, RunningView, channel
from tests.conftest import free_port

APP_ID, KEY, SECRET = "4242", "app-key", "app-secret"


@dataclass
class PusherEvent:
    name: str
    channels: list[str]
    data: Any  # decoded from the JSON string Pusher carries


@dataclass
class FakePusher:
    """Pusher's HTTP API for one app: verified events, and what was refused and why."""

    app_id: str
    key: str
    secret: str
    port: int = 0
    events: list[PusherEvent] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def check(self, method: str, target: str, body: bytes) -> str | None:
        """Why the request is refused, or None: Pusher's auth_version 1.0 rules."""
        parts = urlsplit(target)
        if parts.path != f"/apps/{self.app_id}/events":
            return f"unknown path {parts.path}"
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        signature = params.pop("auth_signature", "")
        if params.get("auth_key") != self.key:
            return "unknown auth_key"
        if params.get("auth_version") != "1.0":
            return "auth_version must be 1.0"
        try:
            timestamp = int(params.get("auth_timestamp", ""))
        except ValueError:
            return "auth_timestamp missing"
        if abs(time.time() - timestamp) > 600:
            return "auth_timestamp out of range"
        if params.get("body_md5") != hashlib.md5(body).hexdigest():
            return "body_md5 does not match the body"
        to_sign = "\n".join(
            [method, parts.path, "&".join(f"{k}={v}" for k, v in sorted(params.items()))]
        )
        expected = hmac.new(self.secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(signature, expected):
            return "invalid signature"
        return None

    def handle(self, method: str, target: str, body: bytes) -> tuple[int, bytes]:
        reason = self.check(method, target, body)
        with self._lock:
            if reason is not None:
                self.refused.append(reason)
                return 401, reason.encode()
            sent = json.loads(body)
            self.events.append(
                PusherEvent(sent["name"], sent["channels"], json.loads(sent["data"]))
            )
        return 200, b"{}"

    def config(self, **overrides: Any) -> PusherConfig:
        values: dict[str, Any] = {
            "app_id": self.app_id,
            "key": self.key,
            "secret": self.secret,
            "host": "127.0.0.1",
            "port": self.port,
            "ssl": False,
        }
        return PusherConfig(**(values | overrides))


@pytest.fixture
def fake_pusher() -> Iterator[FakePusher]:
    fake = FakePusher(APP_ID, KEY, SECRET)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            status, reply = fake.handle("POST", self.path, body)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    fake.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()


def started(account: int, task_id: str, *, announce: bool = True) -> RunningStarted:
    entry = RunningEntry(
        task_id=task_id,
        client_account=account,
        task_type="FETCH_TAX_CARDS",
        started_at="2024-05-01T10:00:00+00:00",
        meta={"income_year": 2024, "business_partner_id": account},
    )
    return RunningStarted(entry=entry, ttl_s=600, announce=announce)


async def test_trigger_delivers_a_signed_event(fake_pusher: FakePusher) -> None:
    relay = PusherRelay(fake_pusher.config())
    data = {"task_id": "t-1", "task_type": "FETCH_TAX_CARDS", "meta": {"income_year": 2024}}

    assert await relay.trigger(channel(56), "create_system_task", data) is True

    assert fake_pusher.refused == []
    assert fake_pusher.events == [PusherEvent("create_system_task", ["data-events;56"], data)]


async def test_wrong_secret_is_refused_and_trigger_does_not_raise(
    fake_pusher: FakePusher, caplog: pytest.LogCaptureFixture
) -> None:
    relay = PusherRelay(fake_pusher.config(secret="not-the-secret"))

    with caplog.at_level(logging.WARNING, logger="tasklane.worker"):
        assert await relay.trigger(channel(56), "create_system_task", {"task_id": "t"}) is False

    assert fake_pusher.refused == ["invalid signature"]
    assert fake_pusher.events == []
    assert "PusherBadAuth" in caplog.text and "data-events;56" in caplog.text


async def test_unreachable_pusher_does_not_raise() -> None:
    relay = PusherRelay(
        PusherConfig(
            app_id=APP_ID, key=KEY, secret=SECRET, host="127.0.0.1", port=free_port(), ssl=False
        ),
        timeout_s=2,
    )
    assert await relay.trigger(channel(56), "create_system_task", {"task_id": "t"}) is False


async def test_system_task_activities_deliver_both_events(
    fake_pusher: FakePusher, redis_url: str
) -> None:
    redis = aioredis.from_url(redis_url)
    view = RunningView(redis)
    publisher = SystemTaskPublisher(view, EventBus(redis), PusherRelay(fake_pusher.config()))
    env = ActivityEnvironment()
    start = started(56, "pusher-e2e-1")
    try:
        await env.run(publisher.announce_running, start)
        assert [e.task_id for e in await view.list(56)] == ["pusher-e2e-1"]
        # A retry wait only extends the TTL: no second create event.
        await env.run(publisher.announce_running, started(56, "pusher-e2e-1", announce=False))
        await env.run(
            publisher.announce_ended,
            RunningEnded(56, "pusher-e2e-1", "completed", {"count": 5}),
        )
        assert await view.list(56) == []
    finally:
        await redis.aclose()

    assert fake_pusher.refused == []
    assert fake_pusher.events == [
        PusherEvent(
            "create_system_task",
            ["data-events;56"],
            {
                "task_id": "pusher-e2e-1",
                "task_type": "FETCH_TAX_CARDS",
                "started_at": "2024-05-01T10:00:00+00:00",
                "meta": {"income_year": 2024, "business_partner_id": 56},
            },
        ),
        PusherEvent(
            "update_system_task",
            ["data-events;56"],
            {"task_id": "pusher-e2e-1", "status": "completed", "result_meta": {"count": 5}},
        ),
    ]


async def test_events_reach_pusher_while_redis_is_down(fake_pusher: FakePusher) -> None:
    redis = aioredis.from_url(f"redis://127.0.0.1:{free_port()}/0")
    publisher = SystemTaskPublisher(
        RunningView(redis), EventBus(redis), PusherRelay(fake_pusher.config())
    )
    env = ActivityEnvironment()
    try:
        await env.run(publisher.announce_running, started(57, "pusher-no-redis"))
        await env.run(publisher.announce_ended, RunningEnded(57, "pusher-no-redis", "failed", None))
    finally:
        await redis.aclose()

    assert [(e.name, e.channels, e.data["task_id"]) for e in fake_pusher.events] == [
        ("create_system_task", ["data-events;57"], "pusher-no-redis"),
        ("update_system_task", ["data-events;57"], "pusher-no-redis"),
    ]
    assert fake_pusher.events[1].data["status"] == "failed"


async def test_plugin_sends_to_pusher_when_configured(fake_pusher: FakePusher) -> None:
    config = TasklaneConfig.model_validate(
        {"pusher": fake_pusher.config().model_dump() | {"app_id": int(APP_ID)}}
    )
    plugin = TasklanePlugin(config)

    await ActivityEnvironment().run(
        plugin._publisher.announce_running, started(58, "pusher-plugin")
    )

    assert [(e.name, e.channels) for e in fake_pusher.events] == [
        ("create_system_task", ["data-events;58"])
    ]


def test_pusher_config_is_optional_and_checked() -> None:
    assert TasklaneConfig().pusher is None
    with pytest.raises(ValueError, match="app_id"):
        TasklaneConfig.model_validate({"pusher": {"app_id": "my-app", "key": "k", "secret": "s"}})
