"""The Resource Manager stand-in's wire: request records, fault rules, SDK-model bodies, path patterns, and the TLS
HTTP server that hands each request to :meth:`AzureEndpoint.answer` (servers/azure.py).

Kept apart from the endpoint so each module has one job: this one is HTTP and shapes, that one routes.
"""

from __future__ import annotations

import json
import socket
import ssl
import struct
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, NamedTuple

from .base import FaultMode

if TYPE_CHECKING:
    from .azure import AzureEndpoint

GRAPH_PATH = "/providers/microsoft.resourcegraph/resources"
# Azure SQL spells a failover partner's and a replication link's partner location as a display name ("Japan East").
_DISPLAY = {
    "eastus": "East US",
    "westus": "West US",
    "westeurope": "West Europe",
    "northeurope": "North Europe",
    "francecentral": "France Central",
    "germanywestcentral": "Germany West Central",
    "swedencentral": "Sweden Central",
    "brazilsouth": "Brazil South",
    "japaneast": "Japan East",
}
TENANT = "72f988bf-0000-4000-8000-000000000001"


class RequestRecord(NamedTuple):
    """One request as the server saw it."""

    method: str
    pattern: str  # the path with ids replaced: /subscriptions/{subscriptionId}/providers/Microsoft.Storage/...
    path: str
    subscription: str | None
    status: int


@dataclass
class Fault:
    """A fault rule. ``pattern`` is a substring of the request's path pattern (None: any); ``subscription`` matches
    the path's subscription, or for a Resource Graph query any subscription in its body. ``hits`` counts firings."""

    method: str | None = None
    pattern: str | None = None
    subscription: str | None = None
    status: int = 403
    code: str = "AuthorizationFailed"
    message: str = "Injected fault"
    retry_after: int | None = None
    times: int | None = None
    hits: int = 0
    mode: FaultMode = "error"
    delay: float = 0.0

    def matches(self, method: str, pattern: str, subscriptions: Iterable[str]) -> bool:
        """Whether this rule applies (ignoring how many firings are left)."""
        return (
            (self.method is None or self.method == method)
            and (self.pattern is None or self.pattern.lower() in pattern.lower())
            and (self.subscription is None or self.subscription in subscriptions)
        )


def wire(model: Any) -> dict[str, Any]:
    """The JSON body of an SDK model, read-only fields included (both generations of generated models)."""
    if hasattr(model, "serialize"):  # msrest-style (its as_dict() would use Python attribute names)
        return dict(model.serialize(keep_readonly=True))
    return dict(model.as_dict())


def _norm_type(rtype: str) -> str:
    return rtype.lower()


def _graph_row(resource: dict[str, Any]) -> dict[str, Any]:
    """A resource as Resource Graph returns it: type and resource group lower-case, the rest as Resource Manager."""
    sub, rg = _sub_rg(resource["id"])
    return {
        "id": resource["id"],
        "name": resource["name"],
        "type": resource["type"].lower(),
        "location": resource.get("location"),
        "subscriptionId": sub,
        "resourceGroup": rg.lower(),
        "kind": resource.get("kind", ""),
        "sku": resource.get("sku"),
        "tags": resource.get("tags") or None,
        "properties": resource.get("properties", {}),
    }


def _sub_rg(rid: str) -> tuple[str, str]:
    parts = rid.split("/")
    return parts[2], parts[4]


_FAULT_MODE = "x-test-fault-mode"
_FAULT_DELAY = "x-test-fault-delay"


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def _subscription_of(path: str) -> str | None:
    parts = [p for p in path.split("/") if p]
    return parts[1] if len(parts) > 1 and parts[0].lower() == "subscriptions" else None


def _pattern(path: str) -> str:
    """The path with its ids replaced, so requests can be counted per kind: /subscriptions/{subscriptionId}/..."""
    parts = [p for p in path.split("/") if p]
    out: list[str] = []
    i = 0
    while i < len(parts):
        part = parts[i]
        low = part.lower()
        out.append(part)
        if low == "subscriptions" and i + 1 < len(parts):
            out.append("{subscriptionId}")
            i += 2
            continue
        if low == "resourcegroups" and i + 1 < len(parts):
            out.append("{resourceGroupName}")
            i += 2
            continue
        if low == "providers" and i + 2 < len(parts):
            # namespace, then alternating type / name
            out.append(parts[i + 1])
            j = i + 2
            while j < len(parts):
                out.append(parts[j])
                if j + 1 < len(parts):
                    out.append("current" if parts[j + 1].lower() == "current" else "{name}")
                j += 2
            break
        i += 1
    return "/" + "/".join(out)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: one TLS handshake per client connection, as with the real API
    # Headers and body leave in separate writes; without TCP_NODELAY, Nagle's algorithm and the client's delayed
    # ACK would add ~40 ms to every response on a kept-alive connection.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        ep = self.server.endpoint
        if ep.latency:
            time.sleep(ep.latency)
        status, extra, doc = ep.answer(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        mode, delay = extra.pop(_FAULT_MODE, "error"), float(extra.pop(_FAULT_DELAY, "0"))
        if mode == "reset":
            # SO_LINGER 0 makes close() send RST instead of FIN: the client sees "connection reset by peer"
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        if mode == "timeout":
            time.sleep(delay if delay > 0 else 600)
            self.close_connection = True
            return
        data = b'{"value": [{"id": ' if mode == "malformed" else json.dumps(doc).encode()
        if mode == "malformed":
            status = 200
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-ms-request-id", str(uuid.uuid4()))
        for k, v in extra.items():
            self.send_header(k, v)
        self.end_headers()
        if mode == "truncate":
            self.wfile.write(data[: len(data) // 2])
            self.close_connection = True
            return
        self.wfile.write(data)

    do_GET = _handle
    do_POST = _handle
    do_PUT = _handle
    do_PATCH = _handle
    do_DELETE = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, endpoint: AzureEndpoint, ctx: ssl.SSLContext) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.endpoint = endpoint
        self._ctx = ctx

    def get_request(self) -> tuple[Any, Any]:
        sock, addr = super().get_request()
        # the TLS handshake happens in the handler's thread, so a slow client never blocks accept()
        return self._ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        # clients that drop a kept-alive connection are normal; say nothing
        pass
