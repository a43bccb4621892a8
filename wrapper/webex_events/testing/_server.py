"""A real threaded HTTP/1.1 server (keep-alive) over the shared ``FakeApp`` core."""

from __future__ import annotations

import signal
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import TextIO

from ._app import BASE_PATH, FakeApp

__all__ = ["make_server", "run_app", "serve_app"]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # The default backlog (5) drops SYNs when many clients connect at once (1 s retransmit stalls).
    request_queue_size = 128
    app: FakeApp

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hangs up mid-response (killed exporter, timeout) is normal here."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle's algorithm the body waits for the
    # client's delayed ACK (40 ms on Linux loopback), for every response.
    disable_nagle_algorithm = True
    server: _Server
    # Idle keep-alive connections are dropped after this many seconds, so threads do not pile up.
    timeout = 30

    def log_message(self, format: str, *args: object) -> None:
        """Silence the default per-request stderr log."""

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        content = self.rfile.read(length) if length else b""
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        headers = {name.lower(): value for name, value in self.headers.items()}
        reply = self.server.app.handle(self.command, f"http://{host}", self.path, headers, content)
        if reply.delay > 0:
            time.sleep(reply.delay)
        if reply.action == "reset":
            # Linger 0: closing sends RST instead of FIN, i.e. "connection reset by peer".
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        if reply.action == "truncate":
            self.send_header("Connection", "close")
        self.end_headers()
        # Clients act on the status line and headers (e.g. Retry-After) as soon as they arrive.
        self.server.app.delivered(reply)
        if self.command == "HEAD":
            return
        if reply.action == "truncate":
            self.wfile.write(reply.body[: len(reply.body) // 2])
            self.close_connection = True
            return
        self.wfile.write(reply.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle  # noqa: N815


def make_server(app: FakeApp, *, host: str = "127.0.0.1", port: int = 0) -> tuple[_Server, str]:
    """Bind a server for ``app``; returns it and its base URL (``http://HOST:PORT/v1``)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    server_cls = type("_BoundServer", (_Server,), {"address_family": family})
    server: _Server = server_cls((host, port), _Handler)
    server.app = app
    bound_port = server.server_address[1]
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    return server, f"http://{shown}:{bound_port}{BASE_PATH}"


@contextmanager
def serve_app(app: FakeApp, *, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``app`` in a background thread for the duration of the ``with`` block."""
    server, base_url = make_server(app, host=host, port=port)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield base_url
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def run_app(
    app: FakeApp,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    out: TextIO | None = None,
    announce: Callable[[str], None] | None = None,
) -> None:
    """Serve ``app`` in this thread until Ctrl-C or SIGTERM; the first stdout line is the base URL."""
    server, base_url = make_server(app, host=host, port=port)
    stream = out if out is not None else sys.stdout
    print(base_url, file=stream, flush=True)
    if announce is not None:
        announce(base_url)

    def _stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _stop) if in_main else None
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if in_main:
            signal.signal(signal.SIGTERM, previous)
