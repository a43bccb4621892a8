"""A small deliberately broken Webex on 127.0.0.1, for tests of what a polite fake never does.

A scenario is a function ``(request_number, path_with_query, headers) -> Answer``; the server
answers each request with it. Every server is bounded: it refuses requests past ``max_requests``
(503 and close) and the tests that use it have timeouts, so no loop can run away.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Answer:
    """What to send: status, headers, body (sent in ``chunks`` pieces ``trickle`` seconds apart)."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b'{"items":[]}'
    trickle: float = 0.0
    chunk: int = 0  # bytes per piece when trickling (0: all at once)
    stall: float = 0.0  # seconds before the status line (a server that hangs)


Scenario = Callable[[int, str, dict[str, str]], Answer]


@dataclass
class Hostile:
    """A running hostile server: ``base_url`` and what it saw."""

    base_url: str
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)


@contextmanager
def hostile_server(scenario: Scenario, *, max_requests: int = 200) -> Iterator[Hostile]:
    """Serve ``scenario`` on 127.0.0.1 while the block runs."""
    lock = threading.Lock()
    state = Hostile(base_url="")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            with lock:
                state.requests.append((self.path, headers))
                number = len(state.requests)
            if number > max_requests:
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.send_header("Connection", "close")
                self.end_headers()
                return
            answer = scenario(number, self.path, headers)
            if answer.stall:
                time.sleep(answer.stall)
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            if "Content-Length" not in answer.headers:
                self.send_header("Content-Length", str(len(answer.body)))
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            try:
                if not answer.trickle:
                    self.wfile.write(answer.body)
                    return
                step = answer.chunk or 1
                for start in range(0, len(answer.body), step):
                    self.wfile.write(answer.body[start : start + step])
                    self.wfile.flush()
                    time.sleep(answer.trickle)
            except OSError:
                pass  # the client gave up: that is the point of most scenarios

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
