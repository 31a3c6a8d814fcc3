"""One planned resource instance: its known values, what stays unknown until apply, and its configuration."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Item:
    """One planned resource instance: its known values, what stays unknown until apply, and its configuration."""

    address: str
    type: str
    name: str
    module: str  # the module instance address, "" in the root module: 'module.storage["eu"]'
    values: Mapping[str, Any]
    unknown: Any  # change.after_unknown: True, or the shape of `values` with True at unknown leaves
    config: Mapping[str, Any] | None  # its block in configuration; None when the plan carries no configuration

    def get(self, *path: str | int) -> Any:
        """The value at `path`, or None when it is absent, null or not known until apply."""
        return None if self.is_unknown(*path) else dig(self.values, path)

    def is_unknown(self, *path: str | int) -> bool:
        """Whether Terraform will only know the value at `path` after apply."""
        node = self.unknown
        for step in path:
            if node is True:
                return True
            node = _step(node, step)
        return node is True

    def configured(self, *path: str | int) -> bool | None:
        """Whether the configuration sets the attribute at `path`; None when the plan has no configuration."""
        if self.config is None:
            return None
        return dig(self.config.get("expressions"), path) is not None

    def references(self, *path: str | int) -> list[str]:
        """The references of the attribute's expression in the configuration, most specific first."""
        expr = dig(self.config.get("expressions") if self.config else None, path)
        refs = expr.get("references") if isinstance(expr, dict) else None
        return [r for r in refs if isinstance(r, str)] if isinstance(refs, list) else []

    def blocks(self, *path: str | int) -> list[Mapping[str, Any]]:
        """The known nested blocks at `path` (list, set or single nesting), as a list of objects."""
        value = self.get(*path)
        if isinstance(value, dict):
            return [value]
        return [b for b in value if isinstance(b, dict)] if isinstance(value, list) else []

    def text(self, *path: str | int) -> str | None:
        """The known, non-empty string at `path`, or None."""
        value = self.get(*path)
        return value if isinstance(value, str) and value else None


def _step(node: Any, step: str | int) -> Any:
    if isinstance(node, dict) and isinstance(step, str):
        return node.get(step)
    if isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
        return node[step]
    return None


def dig(node: Any, path: Iterable[str | int]) -> Any:
    """The value at `path` in nested dicts and lists, or None where a step is missing."""
    for step in path:
        node = _step(node, step)
    return node
