"""What every connector shares: a thread-safe once-per-key cache, and the declared client-side encryption rule."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from ..model import KeyControl

# Client-side encryption cannot be observed from the cloud: a tag (GCP: a label, whose syntax allows no ':')
# declares it, and it overrides what the API says about keys.
CLIENT_SIDE_TAG = ("residency:encryption", "client-side")
CLIENT_SIDE_LABEL = ("residency-encryption", "client-side")


def declared_key_control(
    tags: Mapping[str, str], marker: tuple[str, str], key: tuple[KeyControl, str], word: str = "tag"
) -> tuple[KeyControl, str]:
    """`key` (key control and how it was established), or client-side where the tag or label declares it."""
    name, value = marker
    if tags.get(name, "").lower() == value:
        return KeyControl.CLIENT_SIDE, f"declared by {word} {name}={value}"
    return key


class Memo:
    """Compute a value once per key, even when many threads ask at once; failures are remembered too."""

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        self._fn = fn
        self._lock = threading.Lock()
        self._locks: dict[Any, threading.Lock] = {}
        self._values: dict[Any, tuple[bool, Any]] = {}
        self._reported: set[Any] = set()

    def seed(self, key: Any, value: Any) -> None:
        """Record a value already known (from a list call), so `get` makes no request for it."""
        with self._lock:
            self._values.setdefault(key, (True, value))

    def get(self, key: Any) -> Any:
        """The value for `key`, computed by the first caller; the same exception again if that failed."""
        with self._lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._values:
                try:
                    self._values[key] = (True, self._fn(key))
                except Exception as exc:
                    self._values[key] = (False, exc)
            ok, value = self._values[key]
        if not ok:
            raise value
        return value

    def first_failure(self, key: Any) -> bool:
        """True the first time a failure for `key` is reported, so it becomes exactly one skip."""
        with self._lock:
            if key in self._reported:
                return False
            self._reported.add(key)
            return True
