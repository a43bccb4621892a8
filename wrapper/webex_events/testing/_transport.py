"""In-process httpx transports (sync and async) over the shared ``FakeApp`` core."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import httpx

from ._app import FakeApp, Reply

__all__ = ["FakeAsyncTransport", "FakeTransport"]

_RESET = "[Errno 104] Connection reset by peer"
_TRUNCATED = "peer closed connection without sending complete message body: incomplete chunked read"


class _TruncatedStream(httpx.SyncByteStream):
    def __init__(self, part: bytes) -> None:
        self._part = part

    def __iter__(self) -> Iterator[bytes]:
        yield self._part
        raise httpx.RemoteProtocolError(_TRUNCATED)


class _AsyncTruncatedStream(httpx.AsyncByteStream):
    def __init__(self, part: bytes) -> None:
        self._part = part

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self._part
        raise httpx.RemoteProtocolError(_TRUNCATED)


def _dispatch(app: FakeApp, request: httpx.Request) -> Reply:
    origin = f"{request.url.scheme}://{request.url.netloc.decode('ascii')}"
    target = request.url.raw_path.decode("ascii")
    return app.handle(request.method, origin, target, request.headers, request.content)


def _response(app: FakeApp, reply: Reply, request: httpx.Request, *, is_async: bool) -> httpx.Response:
    if reply.action == "reset":
        raise httpx.ReadError(_RESET, request=request)
    if reply.action == "truncate":
        # Content-Length promises the whole page; the stream stops half-way, as a dropped socket would.
        headers = [*reply.headers, ("Content-Length", str(len(reply.body)))]
        part = reply.body[: len(reply.body) // 2]
        stream: httpx.SyncByteStream | httpx.AsyncByteStream = (
            _AsyncTruncatedStream(part) if is_async else _TruncatedStream(part)
        )
        return httpx.Response(reply.status, headers=headers, stream=stream, request=request)
    # The client has the status line and headers now: a Retry-After runs from here.
    app.delivered(reply)
    if any(name.lower() == "content-encoding" for name, _ in reply.headers):
        # A body labelled with an encoding is decoded when the client reads it, as over a socket
        # (``content=`` would decode it here, so a client could not read the raw bytes).
        headers = [*reply.headers, ("Content-Length", str(len(reply.body)))]
        stream = httpx.ByteStream(reply.body)
        return httpx.Response(reply.status, headers=headers, stream=stream, request=request)
    return httpx.Response(reply.status, headers=reply.headers, content=reply.body, request=request)


class FakeTransport(httpx.BaseTransport):
    """Serves a ``FakeWebex`` to an ``httpx.Client`` in process (no sockets).

    >>> import httpx
    >>> from webex_events.testing import FakeWebex
    >>> fake = FakeWebex(events=5)
    >>> with httpx.Client(transport=fake.transport()) as http:
    ...     http.get("https://webexapis.com/v1/events").status_code
    401
    """

    def __init__(self, app: FakeApp) -> None:
        self._app = app

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        reply = _dispatch(self._app, request)
        if reply.delay > 0:
            time.sleep(reply.delay)
        return _response(self._app, reply, request, is_async=False)


class FakeAsyncTransport(httpx.AsyncBaseTransport):
    """Serves a ``FakeWebex`` to an ``httpx.AsyncClient`` in process; latency uses asyncio.sleep.

    >>> import asyncio, httpx
    >>> from webex_events.testing import FakeWebex
    >>> fake = FakeWebex(events=5)
    >>> auth = {"Authorization": "Bearer fake-token"}
    >>> async def main() -> int:
    ...     async with httpx.AsyncClient(transport=fake.async_transport(), headers=auth) as http:
    ...         r = await http.get("https://webexapis.com/v1/events")
    ...         return len(r.json()["items"])
    >>> asyncio.run(main())
    5
    """

    def __init__(self, app: FakeApp) -> None:
        self._app = app

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        reply = _dispatch(self._app, request)
        if reply.delay > 0:
            await asyncio.sleep(reply.delay)
        return _response(self._app, reply, request, is_async=True)
