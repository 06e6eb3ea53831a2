"""An in-process HTTP/1.1 target that records when each call arrived and answers 200: at once,
or, on `HOLD_PATH`, only when the benchmark releases it (an attempt that runs until then)."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

# A fixed answer: the receiver must cost as little CPU as possible, since it shares the
# machine (and the benchmark's event loop) with everything it measures.
OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
OK_CLOSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
    b"Connection: close\r\n\r\n{}"
)


HOLD_PATH = b"/hold"
# A held call is answered after this long even if never released: a safety net well below
# the attempt timeout of the benchmark's system task type (stack.HOLD_TIMEOUT).
HOLD_MAX_S = 90.0


class ReceiverTimeout(RuntimeError):
    """The receiver did not get the expected calls in time."""


@dataclass
class Arrival:
    """One call as it arrived."""

    wall: float  # time.time(): comparable with the execute_after a task asked for
    mono: float  # time.monotonic(): for throughput, immune to clock steps
    body: Any


class Receiver:
    """Counts calls per `phase` (a payload field), keyed by the payload's `i`, or by the path
    for calls whose payload has none (a group's children all get the same payload)."""

    def __init__(self) -> None:
        self.arrivals: dict[str, dict[Any, Arrival]] = {}
        self.duplicates: dict[str, int] = {}
        self.unparsed = 0
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._waiters: list[tuple[str, int, asyncio.Future[None]]] = []
        self._release = asyncio.Event()
        self.held = 0  # calls on HOLD_PATH not answered yet

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/t"

    @property
    def hold_url(self) -> str:
        """Calls here are recorded at once but answered only at `release_held()`."""
        return f"http://127.0.0.1:{self.port}{HOLD_PATH.decode()}"

    def release_held(self) -> None:
        """Answer every call held so far; later calls to `hold_url` are held again."""
        self._release.set()
        self._release = asyncio.Event()

    async def start(self) -> None:
        """Listen on a free loopback port."""
        # A large backlog: both workers open up to ~200 connections in a burst.
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=2048)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        """Stop listening and drop every keep-alive connection."""
        if self._server is None:
            return
        self._server.close()
        self.release_held()
        # Keep-alive connections stay open otherwise, and wait_closed would wait for them.
        for writer in list(self._writers):
            writer.close()
        try:
            await asyncio.wait_for(self._server.wait_closed(), 5)
        except TimeoutError:
            pass
        self._server = None

    def count(self, phase: str) -> int:
        return len(self.arrivals.get(phase, {}))

    def last_arrival(self, phase: str) -> float:
        """Monotonic time of the latest first-arrival in `phase` (the Nth once N are in)."""
        return max(a.mono for a in self.arrivals[phase].values())

    async def wait_for(self, phase: str, n: int, timeout_s: float) -> None:
        """Wait until `n` distinct calls of `phase` arrived, or raise ReceiverTimeout."""
        if self.count(phase) >= n:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (phase, n, future)
        self._waiters.append(entry)
        try:
            await asyncio.wait_for(future, max(timeout_s, 0.001))
        except TimeoutError:
            raise ReceiverTimeout(
                f"the receiver got {self.count(phase)} of {n} '{phase}' calls "
                f"within {timeout_s:.0f} s"
            ) from None
        finally:
            if entry in self._waiters:
                self._waiters.remove(entry)

    def url_for(self, key: int) -> str:
        """A URL of its own, counted as `key` when the payload carries no `i`."""
        return f"{self.url}/{key}"

    def _record(self, raw: bytes, path: bytes) -> None:
        wall, mono = time.time(), time.monotonic()
        try:
            body = json.loads(raw)
            phase, key = str(body["phase"]), body.get("i", path.decode())
        except (ValueError, TypeError, KeyError):
            self.unparsed += 1
            return
        seen = self.arrivals.setdefault(phase, {})
        if key in seen:
            # A retried attempt delivers twice; throughput counts each task once.
            self.duplicates[phase] = self.duplicates.get(phase, 0) + 1
            return
        seen[key] = Arrival(wall, mono, body)
        count = len(seen)
        for waiter_phase, n, future in self._waiters:
            if waiter_phase == phase and count >= n and not future.done():
                future.set_result(None)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                path, length, chunked, close = _parse_head(head)
                if chunked:
                    body = await _read_chunked(reader)
                else:
                    body = await reader.readexactly(length)
                self._record(body, path)
                if path == HOLD_PATH:
                    await self._hold()
                    if writer.is_closing():
                        return  # closed meanwhile (the receiver is shutting down)
                writer.write(OK_CLOSE if close else OK)
                await writer.drain()
                if close:
                    return
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            return  # the client hung up between requests (normal for keep-alive) or mid-way
        except asyncio.CancelledError:
            # Shutdown (Ctrl-C): end quietly; a cancelled handler task makes asyncio print a
            # traceback per open connection.
            return
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _hold(self) -> None:
        """Wait for `release_held()` (or HOLD_MAX_S) before the call is answered."""
        self.held += 1
        try:
            await asyncio.wait_for(self._release.wait(), HOLD_MAX_S)
        except TimeoutError:
            pass
        finally:
            self.held -= 1


def _parse_head(head: bytes) -> tuple[bytes, int, bool, bool]:
    """(path, content length, chunked?, close after answering?) from a request head."""
    length, chunked, close = 0, False, False
    lines = head.split(b"\r\n")
    # "POST /path?query HTTP/1.1": the path without its query.
    parts = lines[0].split(b" ")
    path = parts[1].partition(b"?")[0] if len(parts) == 3 else b""
    if lines[0].endswith(b"HTTP/1.0"):
        close = True
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value:
            chunked = True
        elif name == b"connection":
            close = value == b"close"
    return path, length, chunked, close


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    """A chunked body (httpx sends Content-Length for JSON, but be safe)."""
    parts: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
        if size == 0:
            # Skip trailers up to the blank line.
            while (await reader.readuntil(b"\r\n")) != b"\r\n":
                pass
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)
