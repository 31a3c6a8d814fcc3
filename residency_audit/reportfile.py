"""Read a saved JSON report one resource at a time, in any JSON layout, validated against the published schema.

`check` re-evaluates a report offline and `diff` compares two; neither holds a report in memory. This module is
the interface (`opened`, `read`), the validation of the head (the published schema, the summary's counts) and the
way into the model; reportitems.py checks one item, reportlayouts.py reads the two layouts. A malformed report
raises ReportError naming the file and field, and the caller writes nothing.
"""

from __future__ import annotations

import codecs
import contextlib
import json
import os
import re
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from .coverage import report_incomplete
from .model import Copy, CopyRole, KeyControl, Provider, Resource, Skip
from .report import READABLE_VERSIONS, SCHEMA_VERSION
from .safe import visible

MAX_DEPTH = 64  # no report nests deeper than a dozen levels; a bomb nests a million
_BIG = ("resources", "findings")  # the arrays streamed item by item, never held
_LEVELS = ("none", "low", "medium", "high", "critical", "unknown")

OnItem = Callable[[dict[str, Any]], None]


class ReportError(ValueError):
    """A report file that cannot be read; the message names the file, the field and the fix."""


@contextmanager
def opened(arg: str | Path) -> Iterator[tuple[Path, str]]:
    """A regular UTF-8 file holding the report `arg` names, and the name to show.

    A report is read in more than one pass when its layout needs it, and a pipe can be read only once: `-`, pipes
    and FIFOs are copied once. A report saved with a byte-order mark or as UTF-16/32 (Windows PowerShell's
    `Out-File`, `>`) is the same report: it is copied once as UTF-8, as plans are read.
    """
    with _opened(arg) as (path, shown), _as_utf8(path, shown) as utf8:
        yield utf8, shown


@contextmanager
def _as_utf8(path: Path, shown: str) -> Iterator[Path]:
    """`path` itself when it is UTF-8 without a BOM, else a temporary UTF-8 copy (removed afterwards)."""
    from .plan.text import _encoding

    with path.open("rb") as fh:
        codec, label, start = _encoding(fh.read(4))
    if codec == "utf-8" and not start:
        yield path
        return
    fd, tmp = tempfile.mkstemp(prefix="residency-audit-", suffix=".json")
    try:
        with path.open("rb") as raw, os.fdopen(fd, "wb") as out:
            raw.seek(start)
            decoder = codecs.getincrementaldecoder(codec)()
            try:
                while chunk := raw.read(1 << 20):
                    out.write(decoder.decode(chunk).encode())
                out.write(decoder.decode(b"", final=True).encode())
            except UnicodeError:  # bytes that are not the encoding, or a lone surrogate: not text
                raise ReportError(f"{shown}: not {label} text, though it starts as such; save the report as "
                                  "UTF-8") from None  # fmt: skip
        yield Path(tmp)
    finally:
        Path(tmp).unlink(missing_ok=True)


@contextmanager
def _opened(arg: str | Path) -> Iterator[tuple[Path, str]]:
    text = str(arg)
    if text == "-":
        source, shown = sys.stdin.buffer, "<stdin>"
    else:
        try:
            mode = os.stat(text).st_mode
        except OSError as exc:
            raise ReportError(f"{visible(text)}: cannot read: {exc.strerror or exc}") from exc
        if stat.S_ISDIR(mode):
            raise ReportError(f"{visible(text)}: is a directory, not a report")
        if stat.S_ISREG(mode):
            yield Path(text), visible(text)
            return
        source, shown = None, visible(text)
    fd, tmp = tempfile.mkstemp(prefix="residency-audit-", suffix=".json")
    try:
        with os.fdopen(fd, "wb") as out:
            if source is None:
                try:
                    with open(text, "rb") as fh:
                        shutil.copyfileobj(fh, out, 1 << 20)
                except OSError as exc:
                    raise ReportError(f"{shown}: cannot read: {exc.strerror or exc}") from exc
            else:
                shutil.copyfileobj(source, out, 1 << 20)
        yield Path(tmp), shown
    finally:
        Path(tmp).unlink(missing_ok=True)


def load_json(path: Path) -> Any:
    """Parse a (small) JSON file whole, with a one-line error that says where it broke."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ReportError(f"{visible(str(path))}: cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ReportError(f"{visible(str(path))}: not UTF-8 text") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        hint = " (the file looks truncated)" if exc.pos >= len(text.rstrip()) - 1 else ""
        raise ReportError(
            f"{visible(str(path))}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}{hint}"
        ) from exc
    except RecursionError:
        raise ReportError(f"{visible(str(path))}: JSON nested too deeply to be a report") from None


def read(path: Path, shown: str, on_resource: OnItem, on_finding: OnItem | None = None) -> dict[str, Any]:
    """Stream a saved report: `on_resource` (then `on_finding`) for each validated item; returns the rest.

    The returned head holds every top-level field but the two streamed arrays (`resources`, `findings`), with
    `skipped` validated. Raises ReportError when the file is not a valid report or its counts disagree with its
    summary; the callbacks may then have seen some items, so a caller writes nothing until this returns.
    """
    from .reportlayouts import NotNative, generic, native

    # the own-layout reader can find the file is not its layout after handing some items over (a later line it
    # cannot split): the general reader, reading from the start, skips what was already handed over (the same
    # items, in the same order), or they would be reported twice
    seen = [0, 0]

    def counting(callback: OnItem, i: int) -> OnItem:
        def on_item(item: dict[str, Any]) -> None:
            callback(item)
            seen[i] += 1

        return on_item

    def skipping(callback: OnItem, i: int) -> OnItem:
        def on_item(item: dict[str, Any]) -> None:
            if seen[i]:
                seen[i] -= 1
            else:
                callback(item)

        return on_item

    with _fewer_collections():
        try:
            return native(
                path, shown, counting(on_resource, 0), counting(on_finding, 1) if on_finding is not None else None
            )
        except NotNative:
            pass
        return generic(
            path, shown, skipping(on_resource, 0), skipping(on_finding, 1) if on_finding is not None else None
        )


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """The cyclic garbage collector run every 20,000 allocations instead of 700 while a report streams.

    Each resource allocates dozens of short-lived containers that reference counting frees; at the default
    threshold the collector ran thousands of times over the formats' long-lived buffers (a quarter of SARIF's
    and JUnit's time at 100,000 resources). Cycles are still collected, so memory stays bounded.
    """
    import gc

    before = gc.get_threshold()
    gc.set_threshold(20_000, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def started_at(path: Path, shown: str) -> datetime:
    """When the saved scan started, read ahead of the resources (`check --as-of report` needs it first)."""
    import ijson

    value: Any = None
    # a broken file: the whole read says what is wrong with it
    with path.open("rb") as fh, contextlib.suppress(ijson.JSONError):
        value = next(iter(ijson.items(fh, "started_at")), None)
    if not isinstance(value, str):
        raise ReportError(f"{shown}: started_at is missing or not a date-time: it is needed for --as-of report")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ReportError(f"{shown}: started_at is not an ISO 8601 date-time: {visible(value[:40])}") from None


def times(head: dict[str, Any], shown: str) -> tuple[datetime, datetime]:
    """When the saved scan started and finished."""
    try:
        return datetime.fromisoformat(head["started_at"]), datetime.fromisoformat(head["finished_at"])
    except ValueError as exc:
        raise ReportError(f"{shown}: started_at/finished_at is not an ISO 8601 date-time: {exc}") from None


# --- the schema ---------------------------------------------------------------------------------------------------


@cache
def _validator() -> Any:
    from importlib import resources

    import jsonschema

    name = f"report-v{SCHEMA_VERSION}.schema.json"
    schema = json.loads(resources.files("residency_audit").joinpath("schema", name).read_text())
    return jsonschema.Draft202012Validator(schema)


def _schema_error(shown: str, instance: Any, where: str = "") -> None:
    """Raise the first way `instance` (the head, or an item at `where`) breaks the published schema."""
    validator = _validator()
    if where:
        name = where.split("[", 1)[0]
        sub = {"resources": "resource", "findings": "finding", "assessment": "assessment"}[name.split(".")[-1]]
        errors = validator.evolve(schema={"$ref": f"#/$defs/{sub}", "$defs": validator.schema["$defs"]})
    else:
        errors = validator
    error = next(iter(sorted(errors.iter_errors(instance), key=lambda e: list(e.absolute_path))), None)
    if error is None:
        return
    field = where + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    field = field.lstrip(".") or "the top level"
    if error.validator == "required":
        missing = re.search(r"'([^']+)' is a required property", error.message)
        what = f"{field + '.' if field != 'the top level' else ''}{missing.group(1) if missing else '?'} is missing"
        raise ReportError(f"{shown}: {visible(what)} (is this a report saved by `residency-audit scan --format json`?)")
    message = error.message if len(error.message) <= 160 else error.message[:157] + "..."
    raise ReportError(f"{shown}: field {visible(field)}: {visible(message)}")


def _head_checks(shown: str, head: dict[str, Any], counted: dict[str, Any]) -> dict[str, Any]:
    """The head valid against the schema, and its summary in agreement with what was counted."""
    if "schema_version" not in head:
        raise ReportError(f"{shown}: not a residency-audit report (no schema_version); give the output of "
                          "`residency-audit scan --format json`")  # fmt: skip
    if head["schema_version"] not in READABLE_VERSIONS:
        raise ReportError(
            f"{shown}: schema_version {visible(repr(head['schema_version']))} is not supported (this version reads "
            f"{SCHEMA_VERSION!r}); re-run the scan with this version"
        )
    for key in _BIG:
        if key in head:  # not an array: let the schema say so
            _schema_error(shown, head)
    # a report of an earlier readable version is checked as this version's (what it lacks is optional)
    _schema_error(
        shown, head | {key: [] for key in _BIG if key in counted["present"]} | {"schema_version": SCHEMA_VERSION}
    )
    _no_surrogates(shown, head, "the report's head")
    summary = head["summary"]
    checks = [
        ("summary.resources", summary["resources"], counted["resources"]),
        ("summary.skipped", summary["skipped"], len(head["skipped"])),
        ("complete", head["complete"], not head["skipped"] and not report_incomplete(head)),
    ]
    checks += [(f"summary.by_level.{lv}", summary["by_level"][lv], counted["levels"].get(lv, 0)) for lv in _LEVELS]
    for field, said, found in checks:
        if said != found:
            raise ReportError(
                f"{shown}: field {field} says {json.dumps(said)} but the report holds {json.dumps(found)}: the "
                "report was edited or cut short; use the report as the scan wrote it"
            )
    return head


def _no_surrogates(shown: str, value: Any, where: str) -> None:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ReportError(
            f"{shown}: {where} holds a lone UTF-16 surrogate (\\ud800-\\udfff), which is not text"
        ) from None


_PROVIDERS = {p.value for p in Provider}


# --- into the model ---------------------------------------------------------------------------------------------

_MEMBERS: dict[Any, dict[str, Any]] = {e: {m.value: m for m in e} for e in (Provider, CopyRole, KeyControl)}


def to_resource(r: dict[str, Any], shared: dict[Any, Any]) -> Resource:
    """A validated resource dict as the model's Resource; identical footprints share one tuple (see `locate`).

    Resources read from one line part share their footprint list: it is recognised by identity (the entry
    holds the list, so its id is not reused while the entry lives), else by its content.
    """
    listed = r["footprint"]
    hit = shared.get(id(listed))
    if hit is not None and hit[0] is listed:
        footprint = hit[1]
    else:
        roles, keys = _MEMBERS[CopyRole], _MEMBERS[KeyControl]
        key = tuple(
            (c["reported_as"] if "reported_as" in c else c["location"], c["role"], c.get("note"), c.get("key_control"))
            for c in listed
        )
        footprint = shared.get(key)
        if footprint is None:
            footprint = tuple(
                Copy.make(code, roles[role], None, note, None if ck is None else keys[ck])
                for code, role, note, ck in key
            )
            if len(shared) < 100_000:
                shared[key] = footprint
        if len(shared) < 100_000:
            shared[id(listed)] = (listed, footprint)
    tags = r.get("tags") or {}
    return Resource.make(
        provider=_MEMBERS[Provider][r["provider"]], account=r["account"], service=r["service"], type=r["type"],
        id=r["id"], name=r["name"], footprint=footprint, key_control=_MEMBERS[KeyControl][r["key_control"]],
        tags=tags, classification=r.get("classification"), key_note=r.get("key_note"),
    )  # fmt: skip


def to_skip(s: dict[str, Any]) -> Skip:
    """A validated skip dict as the model's Skip."""
    return Skip(_MEMBERS[Provider][s["provider"]], s["scope"], s["reason"])


def check_provider(shown: str, where: str, value: str) -> None:
    """A provider the model knows, or ReportError (the schema allows any string; `check` needs a known one)."""
    if value not in _PROVIDERS:
        raise ReportError(f"{shown}: {where}.provider is {visible(repr(value))}, not one of aws, azure, gcp")
