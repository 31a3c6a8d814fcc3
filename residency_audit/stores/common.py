"""What every connector shares: a thread-safe once-per-key cache, and the declared client-side encryption rule."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..model import Copy, KeyControl

UNKNOWN_LOCATION = "unknown"  # a code no knowledge base resolves: the copy is assessed as unknown, never guessed

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


def _spelling(code: str) -> str:
    return "".join(code.split()).lower()


def dedupe_places(footprint: Iterable[Copy], place: Callable[[str], str] = _spelling) -> list[Copy]:
    """One copy per place, the first (the primary) kept: a replica where a copy already is adds no place.

    `place` says which codes name the same place (default: the same code, ignoring case and spaces). Copies in
    unknown locations are never merged: each is a copy nobody could place. A copy under other keys than the one
    already kept there is kept too (keys are per copy: the worst decides).
    """
    seen: set[tuple[str, object]] = set()
    out: list[Copy] = []
    for copy in footprint:
        if copy.code != UNKNOWN_LOCATION:
            key = (place(copy.code), copy.key_control)
            if key in seen:
                continue
            seen.add(key)
        out.append(copy)
    return out


def region_of_arn(arn: str | None) -> str | None:
    """The region field of an ARN (arn:partition:service:region:account:resource), if it has one."""
    if arn and arn.startswith("arn:"):
        parts = arn.split(":")
        if len(parts) > 3 and parts[3]:
            return parts[3]
    return None


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
