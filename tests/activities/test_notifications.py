"""Notifications as a receiver sees them: the seed's payload, signed two ways."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

from tests.api.test_taskhook_lifecycle import wait_status
from tests.conftest import OLD_SIGNING_SECRET, SIGNING_SECRET, eventually
from tests.receiver import Received, Receiver


def taskhook_hex(secret: str, body: bytes) -> str:
    """What a receiver computes, written from the README's recipe, not from our code."""
    key = (
        base64.b64decode(secret[len("whsec_") :])
        if secret.startswith("whsec_")
        else secret.encode()
    )
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def standard_webhooks_b64(secret: str, request: Received) -> str:
    key = (
        base64.b64decode(secret[len("whsec_") :])
        if secret.startswith("whsec_")
        else secret.encode()
    )
    signed = f"{request.headers['webhook-id']}.{request.headers['webhook-timestamp']}.".encode()
    return base64.b64encode(hmac.new(key, signed + request.body, hashlib.sha256).digest()).decode()


async def delivered(receiver: Receiver, path: str, count: int) -> list[Received]:
    async def check() -> list[Received] | None:
        got = receiver.at(path)
        return got if len(got) >= count else None

    return await eventually(check)  # type: ignore[no-any-return]


async def test_every_notification_is_signed_with_every_secret(acme, receiver, path) -> None:
    hooks = path + "/hooks"
    receiver.script(hooks, 200)
    body = {"target": receiver.script(path, 200), "notifications": receiver.url(hooks)}
    task = (await acme.post("/v1/tasks", json=body)).json()
    await wait_status(acme, task["id"], "completed")
    requests = await delivered(receiver, hooks, 3)
    for request in requests:
        values = request.headers["X-Taskhook-Signature"].split(",")
        assert values == [
            "v1=" + taskhook_hex(SIGNING_SECRET, request.body),
            "v1=" + taskhook_hex(OLD_SIGNING_SECRET, request.body),
        ]
        signatures = request.headers["webhook-signature"].split(" ")
        assert signatures[0] == "v1," + standard_webhooks_b64(SIGNING_SECRET, request)
        assert signatures[1] == "v1," + standard_webhooks_b64(OLD_SIGNING_SECRET, request)
        assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 60
    assert len({r.headers["webhook-id"] for r in requests}) == len(requests)


async def test_payload_follows_the_seed_format(acme, receiver, path) -> None:
    hooks = path + "/hooks"
    receiver.script(hooks, 200)
    target = {"url": receiver.script(path, 200), "headers": {"X-Custom": "value"}}
    notify = {"url": receiver.url(hooks), "events": ["task.completed"]}
    body = {"target": target, "payload": {"key1": "value1"}, "notifications": notify}
    task = (await acme.post("/v1/tasks", json=body)).json()
    (request,) = await delivered(receiver, hooks, 1)
    event: dict[str, Any] = request.json()
    assert event["task_id"] == task["id"]
    assert event["event"] == "task.completed"
    assert event["status"] == "completed" and event["previous_status"] == "processing"
    assert event["attempt"] == 1
    assert event["target"] == {
        "url": target["url"],
        "method": "POST",
        "headers": {"X-Custom": "value"},
    }
    assert event["payload"] == {"key1": "value1"}
    assert event["timestamp"].endswith("Z")
    assert "error" not in event


async def test_failing_endpoint_is_retried_and_never_fails_the_task(acme, receiver, path) -> None:
    hooks = path + "/hooks"
    receiver.script(hooks, 500, 503, 200)
    notify = {"url": receiver.url(hooks), "events": ["task.completed"]}
    body = {"target": receiver.script(path, 200), "notifications": notify}
    task = (await acme.post("/v1/tasks", json=body)).json()
    done = await wait_status(acme, task["id"], "completed")
    assert done["attempts"] == 1
    requests = await delivered(receiver, hooks, 3)
    assert len({r.headers["webhook-id"] for r in requests}) == 1  # one message, three tries


async def test_events_filter_limits_what_is_sent(acme, receiver, path) -> None:
    all_hooks, failed_only = path + "/all", path + "/failed"
    receiver.script(all_hooks, 200)
    receiver.script(failed_only, 200)
    notifications = [
        receiver.url(all_hooks),
        {"url": receiver.url(failed_only), "events": ["task.failed"]},
    ]
    body = {"target": receiver.script(path, 200), "notifications": notifications}
    task = (await acme.post("/v1/tasks", json=body)).json()
    await wait_status(acme, task["id"], "completed")
    requests = await delivered(receiver, all_hooks, 3)
    seen = [r.json() for r in requests]
    assert [e["event"] for e in seen] == ["task.queued", "task.processing", "task.completed"]
    assert [e["previous_status"] for e in seen] == [None, "queued", "processing"]
    assert receiver.at(failed_only) == []
