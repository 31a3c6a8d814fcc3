"""The local AWS endpoint's HTTP side: a keep-alive proxy that names each request, logs it, fires its faults
(errors, resets, hangs, truncated or malformed bodies) and hands the rest to the endpoint, which asks moto."""

from __future__ import annotations

import contextlib
import http.client
import select
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from .aws_requests import classify, error_response
from .aws_wire import _Response

if TYPE_CHECKING:
    from .aws import AwsEndpoint

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "expect",
        "content-length",
    }
)


class ProxyServer(ThreadingHTTPServer):
    """The proxy's listening socket: one thread per client connection, each tracked so stop() can drop it."""

    daemon_threads = True
    # Idle keep-alive connections must not make shutdown wait for them.
    block_on_close = False
    # The benchmark opens many connections at once; the default backlog of 5 drops SYNs (1 s retransmit).
    request_queue_size = 128

    def __init__(self, endpoint: AwsEndpoint) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.endpoint = endpoint
        self.stopping = threading.Event()
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # a client that gave up (its --timeout passed on a busy machine) and closed is no server error; anything else
        # is printed as before (in-process, onto the stderr the CLI's test runner captures)
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def track(self, conn: socket.socket, is_open: bool) -> None:
        with self._conns_lock:
            if is_open:
                self._conns.add(conn)
            else:
                self._conns.discard(conn)

    def close_all(self) -> None:
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; every body is read fully, so the stream stays in sync
    timeout = 300  # an idle keep-alive connection gives its thread back eventually
    server: ProxyServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without this, Nagle + delayed ACK add ~40 ms per response.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, True)
        self.server.endpoint._note_connection()

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request logging; the endpoint keeps its own log."""

    def do_GET(self) -> None:
        """Handle any method the same way."""
        try:
            self._handle()
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (its read timeout, or a test's fault); nothing left to answer.
            self.close_connection = True

    do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    def _handle(self) -> None:
        endpoint = self.server.endpoint
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            return
        rec = classify(self.command, self.path, self.headers, body)
        fault = endpoint._record(rec, self.headers.get("User-Agent") or "")
        if endpoint.latency > 0:
            time.sleep(endpoint.latency)
        if fault is not None and fault.mode != "timeout" and fault.delay > 0:
            time.sleep(fault.delay)
        if fault is not None and fault.mode == "error":
            self._send(error_response(rec, self.headers, fault))
            return
        if fault is not None and fault.mode == "reset":
            self._reset()
            return
        if fault is not None and fault.mode == "timeout":
            self._hang(fault.delay)
            return
        headers = [(k, v) for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP]
        try:
            resp = endpoint._forward(rec, headers, body)
        except (OSError, http.client.HTTPException) as exc:
            resp = 502, "Bad Gateway", [("Content-Type", "text/plain")], f"moto unreachable: {exc}".encode()
        if fault is not None and fault.mode == "malformed":
            keep = [(k, v) for k, v in resp[2] if k.lower() != "x-amz-crc32"]
            garbage = b'{"TableNames": [' if self.headers.get("X-Amz-Target") else b"<Result><Items><Item><Name>"
            resp = 200, "OK", keep, garbage
        self._send(resp, truncate=fault is not None and fault.mode == "truncate")

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline(65537).split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, resp: _Response, *, truncate: bool = False) -> None:
        status, reason, headers, data = resp
        self.send_response_only(status, reason or None)
        upstream_length = None
        for name, value in headers:
            if name.lower() == "content-length":
                upstream_length = value
            elif name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        if self.command == "HEAD":
            # http.client gives HEAD no body; the upstream length still describes the resource.
            self.send_header("Content-Length", upstream_length or "0")
            self.end_headers()
            return
        if truncate:
            self.send_header("Content-Length", str(max(len(data), 1)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.close_connection = True
            return
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _reset(self) -> None:
        # SO_LINGER 0 makes close() send RST instead of FIN: the client sees "connection reset by peer".
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def _hang(self, seconds: float) -> None:
        deadline = time.monotonic() + (seconds if seconds > 0 else 600)
        while time.monotonic() < deadline and not self.server.stopping.is_set():
            readable, _, _ = select.select([self.connection], [], [], 0.05)
            if readable:
                try:
                    if not self.connection.recv(1, socket.MSG_PEEK):
                        break  # the client gave up and closed
                except OSError:
                    break
                time.sleep(0.05)
        self.close_connection = True
