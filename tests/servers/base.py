"""What every stand-in server shares: the lifecycle, the fault registry and the request log.

A stand-in (AWS proxy, Azure Resource Manager, Google Cloud APIs, and the inventory engines' stand-ins) subclasses
`Endpoint`: its `start()` builds its HTTP server(s) and hands each to `_serve`; `stop()` (and leaving the `with`
block) shuts every one down and removes the temporary directory. Fault rules are the subclass's own dataclass (each
cloud matches requests on different fields) registered through `_add_fault`; every rule has `times`, `hits` and
`mode`, and `live_fault` picks the first matching rule with firings left and counts the firing.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from socketserver import BaseServer
from types import TracebackType
from typing import Any, Literal, Self

FaultMode = Literal["error", "reset", "timeout", "truncate", "malformed"]
FAULT_MODES: tuple[str, ...] = ("error", "reset", "timeout", "truncate", "malformed")


class Endpoint:
    """Lifecycle, fault rules and request log for a stand-in; use as a context manager or call start()/stop()."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Any] = []
        self._requests: list[Any] = []
        self._tmp: str | None = None
        self._served: list[BaseServer] = []

    # -- lifecycle -----------------------------------------------------------------------------------------------

    def start(self) -> Self:
        """Build the server(s) and serve them with `_serve`."""
        raise NotImplementedError

    def _serve(self, server: BaseServer, name: str) -> None:
        """Serve `server` on a daemon thread (a short poll keeps stop() quick)."""
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True)
        thread.start()
        self._served.append(server)

    def stop(self) -> None:
        """Stop every served server and remove the temporary directory."""
        while self._served:
            server = self._served.pop()
            server.shutdown()
            server.server_close()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- faults and the request log ------------------------------------------------------------------------------

    def _add_fault(self, fault: Any, mode: str) -> Any:
        if mode not in FAULT_MODES:
            raise ValueError(f"unknown fault mode {mode!r}")
        with self._lock:
            self._faults.append(fault)
        return fault

    def live_fault(self, matches: Callable[[Any], bool]) -> Any:
        """The first rule that `matches` and has firings left, its `hits` counted; None when none applies."""
        with self._lock:
            for fault in self._faults:
                if matches(fault) and (fault.times is None or fault.hits < fault.times):
                    fault.hits += 1
                    return fault
        return None

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        with self._lock:
            self._faults.clear()

    def clear_log(self) -> None:
        """Forget the requests seen so far."""
        with self._lock:
            self._requests.clear()

    @property
    def requests(self) -> list[Any]:
        """A snapshot of the request log, oldest first."""
        with self._lock:
            return list(self._requests)

    def _record(self, record: Any) -> Any:
        """Log `record` and consume the first live rule whose `matches(record)` holds; None when none applies.

        Atomic, so a rule's `times` is exact under concurrent requests.
        """
        with self._lock:
            self._requests.append(record)
            for fault in self._faults:
                if fault.matches(record) and (fault.times is None or fault.hits < fault.times):
                    fault.hits += 1
                    return fault
        return None
