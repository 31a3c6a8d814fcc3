"""The scan's open botocore clients, bounded: an organisation walk must not run out of file descriptors.

Every client keeps its own urllib3 pool, and an idle kept-alive socket stays open until the pool is cleared. A walk
of 51 accounts x 38 regions x 15 services creates ~29,000 clients; cached for the whole scan they held more than
20,000 sockets and the scan died with "Too many open files". The scan touches an (account, region) for a short
while, so the least recently used clients are closed once more than `limit` are open. Closing only clears the
client's pools: a thread still using an evicted client finishes its request, and the client would simply open a new
connection if used again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

#: Open clients kept across the whole scan: far above the concurrency (a task uses a handful), far below any fd limit
DEFAULT_LIMIT = 256


class Clients:
    """A thread-safe, least-recently-used cache of botocore clients shared by every account of one scan."""

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._open: OrderedDict[tuple[str, str, str], Any] = OrderedDict()

    def get(self, key: tuple[str, str, str], make: Callable[[], Any]) -> Any:
        """The client for (account, service, region), made once while it stays among the `limit` most recent."""
        evicted = []
        with self._lock:
            client = self._open.get(key)
            if client is not None:
                self._open.move_to_end(key)
                return client
            # boto3 sessions are not thread-safe when creating clients; clients themselves are
            client = self._open[key] = make()
            while len(self._open) > self.limit:
                evicted.append(self._open.popitem(last=False)[1])
        for old in evicted:
            old.close()
        return client

    def __len__(self) -> int:
        with self._lock:
            return len(self._open)

    def close(self) -> None:
        """Close every open client (the end of a scan)."""
        with self._lock:
            clients, self._open = list(self._open.values()), OrderedDict()
        for client in clients:
            client.close()
