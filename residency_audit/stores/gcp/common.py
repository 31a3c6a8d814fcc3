"""What the Google Cloud store modules share: reading API bodies (outside input) without trusting their shapes."""

from __future__ import annotations

from typing import Any


def mapping(value: Any) -> dict[str, Any]:
    """`value` if it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def listed(value: Any) -> list[Any]:
    """`value` if it is a JSON array, else an empty one."""
    return value if isinstance(value, list) else []


def labels(value: Any) -> dict[str, str]:
    """A resource's labels as strings (an absent or malformed `labels` field is no labels)."""
    return {str(k): str(v) for k, v in mapping(value).items()}


def text(value: Any) -> str | None:
    """A non-empty string field, else None."""
    return value if isinstance(value, str) and value else None
