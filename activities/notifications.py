"""Delivery of one signed notification to one endpoint; Temporal retries it on failure."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.http_pool import HttpPool
from tasklane.model import NotificationEndpoint
from tasklane.netguard import PrivateAddressError, check_url_resolved
from tasklane.signing import signed_headers

USER_AGENT = "Tasklane-Webhooks/0.1"


@dataclass
class NotificationInput:
    # Stable across retries of this delivery, so receivers can drop replays (webhook-id).
    message_id: str
    endpoint: NotificationEndpoint
    body: dict[str, Any]
    timeout_s: float = 10.0


class NotificationSender:
    def __init__(
        self,
        *,
        secrets: list[str],
        allow_private: bool,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self._secrets = secrets
        self._allow_private = allow_private
        self._pool = HttpPool(http)

    async def aclose(self) -> None:
        await self._pool.aclose()

    @activity.defn(name="deliver_notification")
    async def deliver_notification(self, notification: NotificationInput) -> None:
        """POST the event; a non-2xx answer or a network error fails this try."""
        endpoint = notification.endpoint
        if not self._allow_private:
            try:
                await check_url_resolved(endpoint.url)
            except PrivateAddressError as e:
                raise ApplicationError(
                    str(e), type="ERR_PRIVATE_ADDRESS", non_retryable=True
                ) from None
            except (OSError, TimeoutError) as e:
                raise ApplicationError(f"could not resolve host: {e}", type="ERR_DNS") from None
        body = json.dumps(notification.body, separators=(",", ":")).encode()
        headers = {
            "User-Agent": USER_AGENT,
            "Content-Type": "application/json",
            **endpoint.headers,
            **signed_headers(self._secrets, notification.message_id, int(time.time()), body),
        }
        request = self._pool.client.build_request(
            endpoint.method, endpoint.url, content=body, headers=headers
        )
        try:
            async with asyncio.timeout(notification.timeout_s):
                response = await self._pool.client.send(request, stream=True)
                await response.aclose()  # the answer's body is never needed
        except TimeoutError:
            raise ApplicationError(
                f"no answer within {notification.timeout_s:g} s", type="ERR_DELIVERY"
            ) from None
        except httpx.HTTPError as e:
            raise ApplicationError(f"{type(e).__name__}: {e}", type="ERR_DELIVERY") from None
        if not 200 <= response.status_code < 300:
            raise ApplicationError(
                f"notification endpoint answered HTTP {response.status_code}",
                type="ERR_DELIVERY_STATUS",
            )
