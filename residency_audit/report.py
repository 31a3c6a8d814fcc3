"""The scan report: one JSON-ready object, built by a pure function, and written atomically."""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from . import __version__, serialize
from .coverage import Coverage
from .coverage import to_json as coverage_json
from .model import Finding, Level, Resource, Viewpoint
from .pipeline import ScanResult
from .policy import counts
from .profiles import Profile
from .safe import relative

SCHEMA_VERSION = "2"  # 2: the coverage section; a 1 report (no coverage) is still read
READABLE_VERSIONS = ("1", "2")


@dataclass(frozen=True)
class Gate:
    """What a profile made of a result: its findings and the verdict (absent without a profile)."""

    profile: Profile
    findings: tuple[Finding, ...]
    verdict: str


@dataclass(frozen=True)
class Meta:
    """Where a report comes from."""

    kind: str  # scan | check | plan
    path: str | None
    started: datetime
    finished: datetime
    not_evaluated: tuple[dict[str, str | None], ...] = ()
    coverage: Coverage | None = None  # what was found, assessed, accepted: see coverage.py
    reverify: tuple[str, ...] = ()  # knowledge-base facts past their review date: a warning in every report


def build(result: ScanResult, view: Viewpoint, meta: Meta, gate: Gate | None = None) -> dict[str, Any]:
    """The report other tools read (docs/report-format.md): extend freely, never rename."""
    # assessments are shared objects: serialise each once and share the (read-only) dict
    cache: dict[int, tuple[object, dict[str, Any] | None]] = {}

    def resource(r: Resource) -> dict[str, Any]:
        key = id(r.assessment)
        if key not in cache:
            cache[key] = (r.assessment, serialize.assessment(r.assessment) if r.assessment else None)
        return serialize.resource(r, with_assessment=False) | {"assessment": cache[key][1]}

    return _head(result, view, meta, gate) | {
        "resources": [resource(r) for r in result.resources],
        "findings": [serialize.finding(f) for f in gate.findings] if gate else [],
        "skipped": [serialize.skip(s) for s in result.skipped],
        "not_evaluated": list(meta.not_evaluated),
    }


def iter_json(result: ScanResult, view: Viewpoint, meta: Meta, gate: Gate | None = None) -> Iterator[str]:
    """The same report as `build`, as JSON text in chunks (flat memory at any size).

    The head is indented; each resource, finding and skip is one compact line, so a report of 100,000 resources
    stays small, diffs line by line, and `check` can read it a line at a time (reportfile.py). An assessment
    shared by many resources is serialised once.
    """
    yield "{"
    for key, value in _head(result, view, meta, gate).items():
        yield f"\n  {json.dumps(key)}: {_nest(value, 2)},"
    cache: dict[int, str] = {}
    yield from _array("resources", (_resource_line(r, cache) for r in result.resources))
    yield ","
    yield from _array("findings", (_line(serialize.finding(f)) for f in gate.findings) if gate else iter(()))
    yield ","
    yield from _array("skipped", (_line(serialize.skip(s)) for s in result.skipped))
    yield ","
    yield from _array("not_evaluated", (_line(n) for n in meta.not_evaluated))
    yield "\n}\n"


def _line(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _resource_line(r: Resource, cache: dict[int, str]) -> str:
    data = serialize.resource(r, with_assessment=False)
    if r.assessment is None:
        return _line(data | {"assessment": None})
    key = id(r.assessment)
    if key not in cache:
        cache[key] = _line(serialize.assessment(r.assessment))
    # "assessment" is the last key on the line: reportfile.py reads a line up to it
    return _line(data)[:-1] + ', "assessment": ' + cache[key] + "}"


def _array(key: str, lines: Iterable[str]) -> Iterator[str]:
    yield f"\n  {json.dumps(key)}: ["
    first = True
    for text in lines:
        yield ("" if first else ",") + "\n    " + text
        first = False
    yield "]" if first else "\n  ]"


def _nest(value: Any, depth: int) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n" + " " * depth)


def _head(result: ScanResult, view: Viewpoint, meta: Meta, gate: Gate | None) -> dict[str, Any]:
    levels = Counter(str(r.assessment.level) for r in result.resources if r.assessment)
    countries = Counter(c for r in result.resources for c in r.countries)
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "residency-audit", "version": __version__},
        "source": {"kind": meta.kind, "path": relative(meta.path) if meta.path else None},
        "started_at": meta.started.isoformat(timespec="seconds"),
        "finished_at": meta.finished.isoformat(timespec="seconds"),
        "viewpoint": _viewpoint(view),
        "complete": not result.skipped and not (meta.coverage is not None and meta.coverage.incomplete),
        "profile": serialize.profile(gate.profile) if gate else None,
        "summary": {
            "resources": len(result.resources),
            "skipped": len(result.skipped),
            "by_level": {str(level): levels.get(str(level), 0) for level in Level},
            "by_country": dict(sorted(countries.items())),
            "reverify": list(meta.reverify),
        }
        | ({"findings": counts(gate.findings), "verdict": gate.verdict} if gate else {}),
        "coverage": coverage_json(meta.coverage) if meta.coverage is not None else None,
    }


def head(
    view: Viewpoint, meta: Meta, profile: Profile | None, verdict: str | None, tally: Any, skipped: int
) -> dict[str, Any]:
    """The report's head from counts (render.Tally): what `_head` computes from a whole result."""
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "residency-audit", "version": __version__},
        "source": {"kind": meta.kind, "path": relative(meta.path) if meta.path else None},
        "started_at": meta.started.isoformat(timespec="seconds"),
        "finished_at": meta.finished.isoformat(timespec="seconds"),
        "viewpoint": _viewpoint(view),
        "complete": not skipped and not (meta.coverage is not None and meta.coverage.incomplete),
        "profile": serialize.profile(profile) if profile is not None else None,
        "summary": {
            "resources": tally.resources,
            "skipped": skipped,
            "by_level": {str(level): tally.levels.get(str(level), 0) for level in Level},
            "by_country": dict(sorted(tally.countries.items())),
            "reverify": list(meta.reverify),
        }
        | ({"findings": dict(tally.findings), "verdict": verdict} if profile is not None else {}),
        "coverage": coverage_json(meta.coverage) if meta.coverage is not None else None,
    }


def _viewpoint(view: Viewpoint) -> dict[str, Any]:
    return {
        "label": view.label,
        "home": sorted(view.home),
        "trusted": sorted(view.trusted),
        "partners": sorted(view.partners),
        "as_of": view.at.isoformat() if view.at else None,
    }


def head_text(data: dict[str, Any]) -> str:
    """The head as `iter_json` writes it: `{` and each field indented, up to the first array."""
    return "{" + "".join(f"\n  {json.dumps(key)}: {_nest(value, 2)}," for key, value in data.items())


line = _line
array = _array


def write_atomic(path: Path, text: str | Iterable[str]) -> None:
    """Write `text` (or its chunks) to `path` so a reader never sees half a file: a temp file, then a rename."""
    path = path.expanduser()
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        # mkstemp makes the file private (0600); a report is an ordinary file, so honour the umask like open() does
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.writelines([text] if isinstance(text, str) else text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
