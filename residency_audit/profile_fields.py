"""Typed access to a profile's TOML tables: every error names the file and the dotted field, in one line."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from .knowledge import KnowledgeBase


class ProfileError(ValueError):
    """A profile that cannot be used; the message names the file, the field and the fix."""


class _Table:
    """Typed access to one TOML table that names the file and dotted field on any error."""

    def __init__(self, where: str, prefix: str, data: Any, kb: KnowledgeBase, at: date) -> None:
        if not isinstance(data, dict):
            raise ProfileError(f"{where}: field '{prefix}' must be a table, got {_show(data)}")
        self.where, self.prefix, self.data, self.kb, self.at = where, prefix, data, kb, at
        self.used: set[str] = set()

    def fail(self, key: str, message: str) -> ProfileError:
        name = f"{self.prefix}.{key}" if self.prefix else key
        return ProfileError(f"{self.where}: field '{name}': {message}")

    def get(self, key: str, kind: type, default: Any = None) -> Any:
        self.used.add(key)
        if key not in self.data:
            return default
        value = self.data[key]
        if kind is date and isinstance(value, datetime | time):
            raise self.fail(key, f"must be a date (YYYY-MM-DD), not a date-time or time: {_show(value)}")
        if not isinstance(value, kind) or (kind in (str, int) and isinstance(value, bool)):
            raise self.fail(key, f"must be {_kind(kind)}, got {_show(value)}")
        return value

    def strs(self, key: str, default: tuple[str, ...] | None = None) -> tuple[str, ...] | None:
        value = self.get(key, list)
        if value is None:
            return default
        if not all(isinstance(v, str) for v in value):
            raise self.fail(key, f"must be a list of strings, got {_show(value)}")
        return tuple(value)

    def states(self, key: str, default: tuple[str, ...] | None = None) -> tuple[str, ...] | None:
        values = self.strs(key, default)
        if values is None:
            return None
        out = []
        for v in values:
            token = v.strip().upper()
            if token not in self.kb.blocs and token not in self.kb.countries:
                raise self.fail(
                    key,
                    f"{v!r} is neither a bloc ({', '.join(sorted(self.kb.blocs))}) nor an ISO 3166-1 alpha-2 "
                    "country code (e.g. DE, US)",
                )
            out.append(token)
        return tuple(out)

    def expand(self, key: str, default: tuple[str, ...] | None = None) -> frozenset[str] | None:
        tokens = self.states(key, default)
        if tokens is None:
            return None
        return frozenset(s for t in tokens for s in self.kb.states_of(t, self.at))

    def choice(self, key: str, enum: Any, default: Any) -> Any:
        value = self.get(key, str)
        if value is None:
            return default
        try:
            return enum(value)
        except ValueError:
            allowed = ", ".join(m.value for m in enum)
            raise self.fail(key, f"must be one of {allowed}, got {value!r}") from None

    def done(self) -> None:
        extra = sorted(set(self.data) - self.used)
        if extra:
            name = f"{self.prefix}.{extra[0]}" if self.prefix else extra[0]
            raise ProfileError(
                f"{self.where}: unknown field '{name}' (see profiles/example.toml for every field a profile can have)"
            )


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _kind(kind: type) -> str:
    return {str: "a string", list: "a list", dict: "a table", int: "an integer", date: "a date (YYYY-MM-DD)"}.get(
        kind, kind.__name__
    )
