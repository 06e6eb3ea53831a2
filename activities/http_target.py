"""One attempt of an HTTP-target task: the request, and what its outcome means for retries."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.http_pool import HttpPool
from activities.running_refresh import kept_running
from tasklane.model import HttpTarget
from tasklane.netguard import PrivateAddressError, check_url_resolved
from tasklane.running_entries import RunningRef

if TYPE_CHECKING:
    from tasklane.running_view import RunningView

HEARTBEAT_EVERY_S = 2.0
# 4xx answers that mean "try again later" rather than "this request is wrong".
RETRYABLE_4XX = frozenset({408, 409, 425, 429})
USER_AGENT = "Tasklane/0.1"
# A task type's target answering a JSON object this small gives the task its result_meta.
MAX_RESULT_META_BYTES = 64 * 1024
# A target may ask for any wait; past a day it is not asking for a retry.
MAX_RETRY_AFTER_S = 86400.0


@dataclass
class AttemptInput:
    task_id: str
    attempt: int
    target: HttpTarget
    payload: Any
    timeout_s: float
    # A task type's URL, set by the operator: the private-address guard does not apply.
    trusted: bool = False
    # A system task's running-view entry, kept alive while the attempt runs.
    running: RunningRef | None = None


@dataclass
class AttemptResult:
    status_code: int
    duration_ms: float
    # A task type's target may answer a JSON object: it becomes the task's result_meta.
    result_meta: dict[str, Any] | None = None


@dataclass
class AttemptFailure:
    """Carried as the details of the attempt's ApplicationError, read back by the workflow."""

    code: str
    message: str
    status_code: int | None = None
    retryable: bool = True
    retry_after_s: float | None = None


class TargetCaller:
    """Holds the shared HTTP connection pool of a worker."""

    def __init__(
        self,
        *,
        allow_private: bool,
        http: httpx.AsyncClient | None = None,
        view: RunningView | None = None,
    ) -> None:
        self._allow_private = allow_private
        self._view = view
        self._pool = HttpPool(
            http, limits=httpx.Limits(max_connections=1000, max_keepalive_connections=200)
        )

    async def aclose(self) -> None:
        await self._pool.aclose()

    @activity.defn(name="call_target")
    async def call_target(self, attempt: AttemptInput) -> AttemptResult:
        """Send the task's request; raise a non-retryable ApplicationError on any failure."""
        target = attempt.target
        if not self._allow_private and not attempt.trusted:
            try:
                await check_url_resolved(target.url)
            except PrivateAddressError as e:
                raise failure_error(
                    AttemptFailure("ERR_PRIVATE_ADDRESS", str(e), retryable=False)
                ) from None
            except (OSError, TimeoutError) as e:
                raise failure_error(
                    AttemptFailure("ERR_DNS", f"could not resolve host: {e or 'timed out'}")
                ) from None
        headers = {
            "User-Agent": USER_AGENT,
            "Content-Type": "application/json",
            **target.headers,
            "X-Tasklane-Task-Id": attempt.task_id,
            "X-Tasklane-Attempt": str(attempt.attempt),
        }
        started = time.perf_counter()
        request = self._pool.client.build_request(
            target.method,
            target.url,
            json=attempt.payload,
            headers=headers,
            timeout=attempt.timeout_s,
        )
        try:
            async with kept_running(self._view, attempt.running):
                response, body = await _send_heartbeating(
                    self._pool.client,
                    request,
                    attempt.timeout_s,
                    keep_body_bytes=MAX_RESULT_META_BYTES if attempt.trusted else 0,
                )
        except (httpx.TimeoutException, TimeoutError):
            raise failure_error(
                AttemptFailure("ERR_TIMEOUT", f"no answer within {attempt.timeout_s:g} s")
            ) from None
        except httpx.ConnectError as e:
            raise failure_error(_connect_failure(e)) from None
        except httpx.HTTPError as e:
            raise failure_error(
                AttemptFailure("ERR_CONNECTION", f"{type(e).__name__}: {e}")
            ) from None
        duration_ms = (time.perf_counter() - started) * 1000
        if 200 <= response.status_code < 300:
            return AttemptResult(response.status_code, duration_ms, _json_object(body))
        code = response.status_code
        raise failure_error(
            AttemptFailure(
                "ERR_HTTP_STATUS",
                f"target answered HTTP {code} {response.reason_phrase}".strip(),
                status_code=code,
                retryable=not (400 <= code < 500) or code in RETRYABLE_4XX,
                retry_after_s=parse_retry_after(response.headers.get("retry-after")),
            )
        )


async def _send_heartbeating(
    http: httpx.AsyncClient, request: httpx.Request, timeout_s: float, keep_body_bytes: int = 0
) -> tuple[httpx.Response, bytes]:
    """Send within `timeout_s` in all (httpx's own timeouts are per read), heartbeating while
    waiting so a dead worker is noticed within the heartbeat timeout. The status and headers
    decide the outcome; of the body, at most `keep_body_bytes` are read (none for a client's
    target: its answer is not ours to keep)."""
    sending = asyncio.ensure_future(_exchange(http, request, keep_body_bytes))
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                done, _ = await asyncio.wait({sending}, timeout=HEARTBEAT_EVERY_S)
                if done:
                    return sending.result()
                activity.heartbeat()
    finally:
        sending.cancel()


async def _exchange(
    http: httpx.AsyncClient, request: httpx.Request, keep_body_bytes: int
) -> tuple[httpx.Response, bytes]:
    response = await http.send(request, stream=True)
    body = b""
    try:
        if keep_body_bytes and 200 <= response.status_code < 300:
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > keep_body_bytes:
                    body = b""  # too big to be result_meta: ignored, not truncated
                    break
    finally:
        await response.aclose()
    return response, body


def _json_object(body: bytes) -> dict[str, Any] | None:
    if not body:
        return None
    try:
        decoded = json.loads(body)
    except ValueError:
        return None
    return decoded if isinstance(decoded, dict) else None


def _connect_failure(error: httpx.ConnectError) -> AttemptFailure:
    causes: list[BaseException] = []
    cause: BaseException | None = error
    while cause is not None and len(causes) < 8:
        causes.append(cause)
        cause = cause.__cause__ or cause.__context__
    text = "; ".join(str(c) for c in causes if str(c))
    lowered = text.lower()
    if any(isinstance(c, ConnectionRefusedError) for c in causes) or "refused" in lowered:
        return AttemptFailure("ERR_CONNECTION_REFUSED", "Failed to connect to host: refused")
    if "certificate" in lowered or "ssl" in lowered or "tls" in lowered:
        return AttemptFailure("ERR_TLS", f"TLS error: {text}")
    if "name or service" in lowered or "nodename" in lowered or "resolve" in lowered:
        return AttemptFailure("ERR_DNS", f"could not resolve host: {text}")
    return AttemptFailure("ERR_CONNECTION", f"connection failed: {text}")


def failure_error(failure: AttemptFailure) -> ApplicationError:
    # Non-retryable for Temporal: the workflow owns the retry loop and decides from details.
    return ApplicationError(failure.message, failure, type=failure.code, non_retryable=True)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_S)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return min(max(0.0, (when - datetime.now(UTC)).total_seconds()), MAX_RETRY_AFTER_S)
