"""What a Python task handler sees: the context it is called with and the errors it may raise.

    async def fetch_tax_cards(ctx: TaskContext) -> dict | None:
        ctx.heartbeat({"step": "login"})
        await ctx.publish_result(b"...", content_type="application/pdf", identifier="cards.pdf")
        return {"count": 5}          # the task's result_meta

A handler's exception fails the attempt, which the task's retry policy may repeat;
`NonRetryableError` ends the task at once.
"""

# No `from __future__ import annotations` here: the workflow decodes PublishedResult inside
# Temporal's sandbox, where string annotations of this module do not resolve.
import base64
import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from temporalio import activity

from tasklane.model import ResultInfo, TaskScope


class NonRetryableError(Exception):
    """Raised by a handler: the task fails now, whatever attempts are left."""

    code = "ERR_HANDLER"


class ResultTooLarge(NonRetryableError):
    """A published result would pass the task's result size or count limit."""

    code = "ERR_RESULT_TOO_LARGE"


@dataclass
class PublishedResult:
    """A result as it travels back to the workflow: its description and its bytes."""

    info: ResultInfo
    data_b64: str

    @property
    def data(self) -> bytes:
        return base64.b64decode(self.data_b64)


@dataclass
class TaskContext:
    """The one argument of a handler."""

    task_id: str
    type: str
    organisation: str
    user: str | None
    scope: TaskScope
    payload: Any
    attempt: int
    max_result_bytes: int
    max_results: int
    results: list[PublishedResult] = field(default_factory=list)
    # Re-sent by the worker's own heartbeats, so the last progress report stays visible.
    last_heartbeat: tuple[Any, ...] = ()

    @property
    def client_account(self) -> int | None:
        return self.scope.client_account

    @property
    def project(self) -> str | None:
        return self.scope.project

    @property
    def meta(self) -> Any:
        """The payload under the System tasks name."""
        return self.payload

    def heartbeat(self, *details: Any) -> None:
        """Report progress; the details show in the Web UI on the pending attempt."""
        self.last_heartbeat = details
        activity.heartbeat(*details)

    async def publish_result(
        self,
        data: bytes | str | dict[str, Any] | list[Any],
        content_type: str | None = None,
        identifier: str | None = None,
    ) -> ResultInfo:
        """Attach a result to the task; it is stored when the attempt succeeds."""
        raw, default_type = _to_bytes(data)
        if len(self.results) >= self.max_results:
            raise ResultTooLarge(f"a task may publish at most {self.max_results} results")
        used = sum(r.info.size for r in self.results)
        if used + len(raw) > self.max_result_bytes:
            raise ResultTooLarge(
                f"results of a task may total at most {self.max_result_bytes} bytes; "
                f"this one ({len(raw)} bytes) would make {used + len(raw)}"
            )
        info = ResultInfo(
            id=str(uuid.uuid4()),
            content_type=content_type or default_type,
            md5=hashlib.md5(raw).hexdigest(),
            size=len(raw),
            created_at=datetime.now(UTC),
            identifier=identifier,
        )
        self.results.append(PublishedResult(info, base64.b64encode(raw).decode()))
        return info


Handler = Callable[[TaskContext], Awaitable[dict[str, Any] | None]]


def _to_bytes(data: bytes | str | dict[str, Any] | list[Any]) -> tuple[bytes, str]:
    if isinstance(data, bytes):
        return data, "application/octet-stream"
    if isinstance(data, str):
        return data.encode(), "text/plain; charset=utf-8"
    return json.dumps(data, separators=(",", ":")).encode(), "application/json"
