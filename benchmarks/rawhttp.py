"""A minimal keep-alive HTTP/1.1 client for one prebuilt GET, for the 200 req/s phase.

At 200 requests/s httpx costs the driver about 1.7 ms of CPU per request (a third of one
of the 2 cores it shares with the stack it measures); these prebuilt bytes over plain asyncio
streams cost about 0.25 ms, so the latency measured is the API's rather than the client's.
Like the receiver, it only knows what the benchmark needs: answers with a Content-Length.
"""

from __future__ import annotations

import asyncio

import httpx

Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class RawGet:
    """GET one URL again and again; one connection per request in flight, kept alive."""

    def __init__(self, host: str, port: int, target: str, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        lines = [f"GET {target} HTTP/1.1", f"Host: {host}:{port}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        self._request = ("\r\n".join(lines) + "\r\n\r\n").encode()
        self._idle: list[Connection] = []

    @classmethod
    def like(cls, api: httpx.AsyncClient, path: str, params: dict[str, str]) -> RawGet:
        """GET `path?params` at the client's base URL, with its Authorization header."""
        url = api.base_url.join(path).copy_merge_params(params)
        assert url.host and url.port, "the API URL must name its host and port"
        return cls(
            url.host,
            url.port,
            url.raw_path.decode(),
            {"Authorization": api.headers["Authorization"]},
        )

    async def get(self) -> tuple[int, bytes]:
        """(status, body). A reused connection the server closed meanwhile (its keep-alive
        timeout) is replaced once, as any client does for an idempotent request."""
        while self._idle:
            connection = self._idle.pop()
            if connection[0].at_eof() or connection[1].is_closing():
                connection[1].close()
                continue
            try:
                return await self._exchange(connection)
            except (asyncio.IncompleteReadError, ConnectionError) as e:
                if isinstance(e, asyncio.IncompleteReadError) and e.partial:
                    raise  # the answer began: not a closed idle connection
                break
        return await self._exchange(await asyncio.open_connection(self.host, self.port))

    async def _exchange(self, connection: Connection) -> tuple[int, bytes]:
        reader, writer = connection
        try:
            writer.write(self._request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length, close = None, False
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"connection":
                    close = value.strip().lower() == b"close"
            if length is None:
                raise ValueError(f"an answer without Content-Length: {head[:200]!r}")
            body = await reader.readexactly(length)
        except BaseException:
            writer.close()
            raise
        if close:
            writer.close()
        else:
            self._idle.append(connection)
        return status, body

    def close(self) -> None:
        """Close the idle connections (every one, once no request is in flight)."""
        for _, writer in self._idle:
            writer.close()
        self._idle.clear()
