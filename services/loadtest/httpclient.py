"""A small keep-alive HTTP/1.1 client for JSON APIs on this machine.

The generator shares two cores with the mesh it measures; httpx costs several times more CPU
per request than this, which would show up as mesh latency. Only what uvicorn answers is
handled: `Content-Length` or chunked bodies, keep-alive unless `Connection: close`.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any


class HttpError(Exception):
    """The request did not get an HTTP answer (connection refused, reset, timeout)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class HttpPool:
    def __init__(self, host: str = "127.0.0.1", per_port: int = 32, timeout: float = 30.0) -> None:
        self.host = host
        self.authorization: dict[int, str] = {}  # port -> Authorization header value
        self.timeout = timeout
        self._idle: dict[int, list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]] = {}
        self._limit: dict[int, asyncio.Semaphore] = {}
        self._per_port = per_port

    async def request(self, port: int, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """Send one request; return (status, parsed JSON or None). Raises HttpError without an answer."""
        data = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        auth = self.authorization.get(port)
        head = (f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{port}\r\nContent-Type: application/json\r\n"
                + (f"Authorization: {auth}\r\n" if auth else "")
                + f"Content-Length: {len(data)}\r\n\r\n").encode()  # fmt: skip
        limit = self._limit.setdefault(port, asyncio.Semaphore(self._per_port))
        async with limit:
            try:
                return await asyncio.wait_for(self._exchange(port, head + data), self.timeout)
            except TimeoutError:
                raise HttpError("timeout") from None
            except (ConnectionError, OSError, asyncio.IncompleteReadError) as exc:
                raise HttpError(f"connection: {type(exc).__name__}") from None

    async def _exchange(self, port: int, raw: bytes) -> tuple[int, Any]:
        idle = self._idle.setdefault(port, [])
        reused = bool(idle)
        reader, writer = idle.pop() if idle else await asyncio.open_connection(self.host, port)
        try:
            writer.write(raw)
            status, keep, payload = await _read_response(reader)
        except (ConnectionError, asyncio.IncompleteReadError):
            writer.close()
            if not reused:
                raise
            # A kept-alive connection the server had closed: retry once on a new one.
            reader, writer = await asyncio.open_connection(self.host, port)
            writer.write(raw)
            status, keep, payload = await _read_response(reader)
        except BaseException:
            writer.close()
            raise
        if keep:
            idle.append((reader, writer))
        else:
            writer.close()
        return status, _parse(payload)

    async def close(self) -> None:
        for conns in self._idle.values():
            for _, writer in conns:
                writer.close()
        self._idle.clear()


def _parse(payload: bytes) -> Any:
    """JSON, or the text of an answer that is not (a plain `Internal Server Error` from uvicorn): a
    parse error here would end the request's task silently, neither accepted nor counted as an error."""
    if not payload:
        return None
    try:
        return json.loads(payload)
    except ValueError:
        return payload.decode(errors="replace")


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool, bytes]:
    status_line = await reader.readuntil(b"\r\n")
    status = int(status_line.split(b" ", 2)[1])
    length, chunked, keep = 0, False, True
    while True:
        line = await reader.readuntil(b"\r\n")
        if line == b"\r\n":
            break
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        elif name == b"connection" and b"close" in value.lower():
            keep = False
    if not chunked:
        return status, keep, await reader.readexactly(length) if length else b""
    parts: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return status, keep, b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)
