"""The API's one middleware: a request about a task names it for the logs while it is being
answered, and every answer is counted by route template, also an unexpected error's 500."""

from __future__ import annotations

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from api.metrics import ApiMetrics, RequestContext
from tasklane.ids import as_uuid
from tasklane.logs import REQUEST_TASK_ID

TASK = "task_" + "b" * 32


async def test_a_request_about_a_task_names_it_while_it_is_answered() -> None:
    seen: list[str | None] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(REQUEST_TASK_ID.get())
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    app = RequestContext(inner, ApiMetrics())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
        await c.get(f"/v1/tasks/{TASK}")
        await c.get(f"/tasks/{as_uuid(TASK)}/results")
        await c.get("/v1/url-groups")
    assert seen == [TASK, TASK, None]
    assert REQUEST_TASK_ID.get() is None  # reset once answered


async def test_an_unexpected_error_is_counted_as_its_500() -> None:
    async def failing(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("boom")

    metrics = ApiMetrics()
    app = RequestContext(failing, metrics)
    with pytest.raises(RuntimeError):
        await app({"type": "http", "method": "PURGE", "path": "/x"}, _receive, _send)
    labels = {"route": "unmatched", "method": "other", "status": "500"}
    assert metrics.registry.get_sample_value("tasklane_http_requests_total", labels) == 1


async def _receive() -> dict:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _send(message: dict) -> None:
    pass
