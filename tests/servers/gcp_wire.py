"""The wire side of the local Google Cloud endpoint (tests/servers/gcp.py): HTTP handling, faults, paging, errors, tokens.

Kept apart from the endpoint's state and seeding: the handler matches a route, records the request, applies an
injected fault (an HTTP error in Google's JSON error shape, a reset, a timeout, a truncated or malformed body),
checks the bearer token and hands the request to the endpoint.
"""

from __future__ import annotations

import base64
import json
import socket
import struct
import time
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import parse_qs, urlsplit

from .base import FaultMode

if TYPE_CHECKING:
    from .gcp import GcpEndpoint

_STATUS_TEXT = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


class RequestRecord(NamedTuple):
    """One request as the server saw it."""

    api: str
    operation: str
    method: str
    project: str | None
    path: str


@dataclass
class Fault:
    """An injected HTTP error; ``None`` in api/operation/project matches anything. ``hits`` counts firings."""

    api: str | None = None
    operation: str | None = None
    project: str | None = None
    status: int = 403
    message: str = "Injected fault"
    times: int | None = None
    hits: int = 0
    mode: FaultMode = "error"
    delay: float = 0.0
    retry_after: int | None = None

    def matches(self, rec: RequestRecord) -> bool:
        """Whether this rule applies to ``rec`` (ignoring how many firings are left)."""
        return (
            (self.api is None or self.api == rec.api)
            and (self.operation is None or self.operation == rec.operation)
            and (self.project is None or self.project == rec.project)
        )


def service_account_key(token_uri: str, project: str = "scanner-project") -> dict[str, Any]:
    """A real service-account key (a fresh RSA key) whose token exchange goes to ``token_uri``."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return {
        "type": "service_account",
        "project_id": project,
        "private_key_id": "0123456789abcdef",
        "private_key": pem,
        "client_email": f"residency-audit@{project}.iam.gserviceaccount.com",
        "client_id": "100000000000000000001",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
        "universe_domain": "googleapis.com",
    }


def _public_pem(private_pem: str) -> bytes:
    from cryptography.hazmat.primitives import serialization

    private = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _signed_by(jwt: str, public_pem: bytes) -> bool:
    """Whether an RS256 JWT carries a valid signature by the key whose public half is `public_pem`."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    head, body, signature = jwt.split(".")
    public = serialization.load_pem_public_key(public_pem)
    if json.loads(_b64(head)).get("alg") != "RS256" or not isinstance(public, rsa.RSAPublicKey):
        return False
    try:
        public.verify(_b64(signature), f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _page(
    items: Iterable[dict[str, Any]],
    key: str,
    q: dict[str, str],
    cap: int | None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One page (``pageToken`` = offset); ``maxResults``/``pageSize`` asked, never more than ``cap``."""
    rows = list(items)
    start = int(q.get("pageToken") or 0)
    size = int(q.get("maxResults") or q.get("pageSize") or 1000)
    if cap is not None:
        size = min(size, cap)
    page: dict[str, Any] = dict(extra or {})
    if rows[start : start + size]:
        page[key] = rows[start : start + size]
    if start + size < len(rows):
        page["nextPageToken"] = str(start + size)
    return page


def _error(status: int, message: str) -> tuple[int, dict[str, Any]]:
    reason = {403: "forbidden", 404: "notFound", 429: "rateLimitExceeded", 503: "backendError"}.get(status, "error")
    return status, {
        "error": {
            "code": status,
            "message": message,
            "status": _STATUS_TEXT.get(status, "UNKNOWN"),
            "errors": [{"message": message, "domain": "global", "reason": reason}],
        }
    }


class _Server(ThreadingHTTPServer):
    # the default listen backlog of 5 drops SYNs when 16 threads connect at once: the client then waits 1 s to retry
    request_queue_size = 128
    daemon_threads = True


class _Handler(BaseHTTPRequestHandler):
    server_endpoint: GcpEndpoint
    protocol_version = "HTTP/1.1"
    # headers and body go out in two writes: with Nagle's algorithm the second waits for the client's delayed ACK
    # (40 ms per request on Linux), which would swamp the latency the benchmark sets
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the endpoint keeps its own log

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        ep = self.server_endpoint
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        api, op, groups = "unknown", f"{method} {parts.path}", dict[str, str]()
        for route_method, pattern, route_api, route_op in ep.routes:
            match = pattern.match(parts.path)
            if match and route_method == method:
                api, op, groups = route_api, route_op, match.groupdict()
                break
        # the project, else the organization or folder a request is about (folders.list's ?parent=, a folder's sinks)
        project = (
            groups.get("project")
            or next(iter(query.get("project", [])), None)
            or groups.get("parent")
            or next(iter(query.get("parent", [])), None)
        )
        rec = RequestRecord(api, op, method, project, parts.path)
        fault = ep._record(rec)
        if ep.latency:
            time.sleep(ep.latency)
        mode = fault.mode if fault is not None else "error"
        if mode == "reset":
            # SO_LINGER 0 makes close() send RST instead of FIN: the client sees "connection reset by peer"
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        if mode == "timeout":
            time.sleep(fault.delay if fault is not None and fault.delay > 0 else 600)
            self.close_connection = True
            return
        if fault is not None and mode != "error":
            fault = None  # truncate / malformed: the real answer, spoilt on the way out
        if fault is not None and api == "oauth2":
            # the token endpoint answers in OAuth 2.0's shape, not the APIs' JSON error shape
            code, _, description = fault.message.partition(": ")
            status, payload = fault.status, {"error": code, "error_description": description}
        elif fault is not None:
            status, payload = _error(fault.status, fault.message)
        elif api not in ("oauth2", "storage", "unknown") and not ep._authorised(self.headers.get("Authorization")):
            status, payload = _error(401, "Request is missing required authentication credential.")
        elif api == "unknown":
            status, payload = _error(404, f"no route for {method} {parts.path}")
        else:
            status, payload = ep._handle(api, op, groups, query, body)
        data = json.dumps(payload).encode()
        if mode == "malformed":
            status, data = 200, b'{"items": [{"name": '
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        if fault is not None and fault.retry_after is not None:
            self.send_header("Retry-After", str(fault.retry_after))
        self.end_headers()
        if mode == "truncate":
            self.wfile.write(data[: len(data) // 2])
            self.close_connection = True
            return
        self.wfile.write(data)
