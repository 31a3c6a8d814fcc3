"""The scan report: one JSON-ready object, built by a pure function, and written atomically."""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from . import __version__, serialize
from .model import Level, Viewpoint
from .pipeline import ScanResult

SCHEMA_VERSION = "1"


def build(result: ScanResult, view: Viewpoint, started: datetime, finished: datetime) -> dict[str, Any]:
    """The report other tools read (see README, "JSON report"): extend freely, never rename."""
    return _head(result, view, started, finished) | {
        "resources": [serialize.resource(r) for r in result.resources],
        "skipped": [serialize.skip(s) for s in result.skipped],
    }


def iter_json(result: ScanResult, view: Viewpoint, started: datetime, finished: datetime) -> Iterator[str]:
    """The same report as `build`, as JSON text in chunks, one resource at a time (flat memory at any size)."""
    yield "{"
    for key, value in _head(result, view, started, finished).items():
        yield f"\n  {json.dumps(key)}: {_nest(value, 2)},"
    yield from _array("resources", (serialize.resource(r) for r in result.resources))
    yield ","
    yield from _array("skipped", (serialize.skip(s) for s in result.skipped))
    yield "\n}\n"


def _array(key: str, items: Iterable[dict[str, Any]]) -> Iterator[str]:
    yield f"\n  {json.dumps(key)}: ["
    first = True
    for item in items:
        yield ("" if first else ",") + "\n    " + _nest(item, 4)
        first = False
    yield "]" if first else "\n  ]"


def _nest(value: Any, depth: int) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n" + " " * depth)


def _head(result: ScanResult, view: Viewpoint, started: datetime, finished: datetime) -> dict[str, Any]:
    levels = Counter(str(r.assessment.level) for r in result.resources if r.assessment)
    countries = Counter(c for r in result.resources for c in r.countries)
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "residency-audit", "version": __version__},
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": finished.isoformat(timespec="seconds"),
        "viewpoint": {"label": view.label, "home": sorted(view.home), "trusted": sorted(view.trusted)},
        "complete": not result.skipped,
        "summary": {
            "resources": len(result.resources),
            "skipped": len(result.skipped),
            "by_level": {str(level): levels.get(str(level), 0) for level in Level},
            "by_country": dict(sorted(countries.items())),
        },
    }


def write_atomic(path: Path, text: str | Iterable[str]) -> None:
    """Write `text` (or its chunks) to `path` so a reader never sees half a file: a temp file, then a rename."""
    path = path.expanduser()
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.writelines([text] if isinstance(text, str) else text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
