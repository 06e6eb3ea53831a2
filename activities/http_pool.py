"""A worker's shared HTTP connection pool, made on first use inside the worker's event loop
and closed when the worker stops (the plugin's run context)."""

from __future__ import annotations

import httpx


class HttpPool:
    def __init__(self, client: httpx.AsyncClient | None = None, **options: object) -> None:
        self._client = client
        self._options = options

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(follow_redirects=False, **self._options)  # type: ignore[arg-type]
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
