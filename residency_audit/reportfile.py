"""Read a saved JSON report one resource at a time, in any JSON layout, validated against the published schema.

`check` re-evaluates a report offline and `diff` compares two; neither holds a report in memory. A report in
residency-audit's own layout (one array item per line, docs/report-format.md) is read a line at a time, its
assessments parsed once per distinct text; any other layout of the same JSON (re-indented, minified, keys
reordered) is read by a streaming parser (ijson). Both give the same items or the same error: a malformed report
raises ReportError naming the file and field, never half a result.
"""

from __future__ import annotations

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
    """A regular file holding the report `arg` names, and the name to show: `-`, pipes and FIFOs are copied once.

    A report is read in more than one pass when its layout needs it, and a pipe can be read only once.
    """
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
    reader = _Native(path, shown)
    try:
        return reader.run(on_resource, on_finding)
    except _NotNative:
        pass
    return _generic(path, shown, on_resource, on_finding)


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


# --- one item ---------------------------------------------------------------------------------------------------

_TEXT = ("provider", "account", "service", "type", "id", "name")
_PROVIDERS = {p.value for p in Provider}
_KEYS = {k.value for k in KeyControl}
_ROLES = {r.value for r in CopyRole}


def _valid_resource(r: Any) -> bool:
    """Whether a resource matches the schema (without its assessment): the fast check, one pass, no messages."""
    return (
        type(r) is dict
        and _valid_identity(r)
        and _valid_footprint_part(r)
        and _valid_keys_part(r)
        and "assessment" in r
    )


def _valid_identity(r: dict[str, Any]) -> bool:
    try:
        return all(type(r[k]) is str for k in _TEXT)
    except KeyError:
        return False


def _valid_footprint_part(r: dict[str, Any]) -> bool:
    """The footprint and countries of a resource (or of a part of its line holding just them)."""
    try:
        if type(r["footprint"]) is not list or type(r["countries"]) is not list:
            return False
        "".join(r["countries"])
        for c in r["footprint"]:
            if type(c) is not dict or c["role"] not in _ROLES or type(c["location"]) is not str:
                return False
            if type(c["countries"]) is not list:
                return False
            "".join(c["countries"])
            if type(c.get("reported_as", "")) is not str or type(c.get("known", True)) is not bool:
                return False
            if c.get("note") is not None and type(c["note"]) is not str:
                return False
        return True
    except (KeyError, TypeError):
        return False


def _valid_keys_part(r: dict[str, Any]) -> bool:
    """Key control, notes, classification and tags of a resource (or of the part of its line holding them)."""
    try:
        if r["key_control"] not in _KEYS:
            return False
        for k in ("key_note", "classification"):
            if r.get(k) is not None and type(r[k]) is not str:
                return False
        tags = r.get("tags", {})
        if type(tags) is not dict:
            return False
        "".join(tags.values())
        return True
    except (KeyError, TypeError):
        return False


def _valid_assessment(a: Any) -> bool:
    if a is None:
        return True
    if type(a) is not dict:
        return False
    try:
        if a["level"] not in _LEVELS:
            return False
        for k in ("foreign_reach", "countries", "reasons"):
            if type(a[k]) is not list:
                return False
            "".join(a[k])
        if type(a["reach"]) is not list:
            return False
        for x in a["reach"]:
            if type(x) is not dict or x["basis"] not in ("territorial", "operator", "parent", "regime"):
                return False
            "".join((x["state"], x["via"]))
            if type(x.get("instruments", [])) is not list:
                return False
            "".join(x.get("instruments", []))
        return True
    except (KeyError, TypeError):
        return False


def _valid_finding(f: Any) -> bool:
    if type(f) is not dict:
        return False
    try:
        "".join((f["rule"], f["provider"], f["account"], f["resource"], f["message"], f["fingerprint"]))
        if f["severity"] not in ("error", "warning", "note") or type(f["waived"]) is not bool:
            return False
        if type(f["reasons"]) is not list:
            return False
        "".join(f["reasons"])
        return bool(f["fingerprint"]) and bool(re.fullmatch(r"RA[0-9]{3}", f["rule"]))
    except (KeyError, TypeError):
        return False


class _Items:
    """What both readers share: validate each item, count what the summary is checked against."""

    def __init__(self, shown: str, on_resource: OnItem, on_finding: OnItem | None) -> None:
        self.shown, self.on_resource, self.on_finding = shown, on_resource, on_finding
        self.resources = 0
        self.findings = 0
        self.levels: dict[str, int] = {}
        # parts of resource lines that many resources share, parsed and checked once (one cache per kind of part)
        self.footprints: dict[bytes, tuple[Any, bool]] = {}
        self.keys: dict[bytes, tuple[Any, bool]] = {}
        self.assessments: dict[bytes, tuple[Any, bool]] = {}

    def resource(self, r: Any, checked: bool = False) -> None:
        provider = r.get("provider") if type(r) is dict else None
        if provider not in _PROVIDERS and isinstance(provider, str):
            raise ReportError(f"{self.shown}: resources[{self.resources}].provider is {visible(repr(provider))}, "
                              "not one of aws, azure, gcp")  # fmt: skip
        if not checked and not (_valid_resource(r) and _valid_assessment(r["assessment"])):
            where = f"resources[{self.resources}]"
            _schema_error(self.shown, r, where)
            raise ReportError(f"{self.shown}: {where} does not match the report schema")  # pragma: no cover
        a = r["assessment"]
        if a is not None:
            level = a["level"]
            self.levels[level] = self.levels.get(level, 0) + 1
        self.resources += 1
        self.on_resource(r)

    def finding(self, f: Any) -> None:
        if self.on_finding is None:
            self.findings += 1
            return
        if not _valid_finding(f):
            _schema_error(self.shown, f, f"findings[{self.findings}]")
        self.findings += 1
        self.on_finding(f)

    def counted(self, present: set[str]) -> dict[str, Any]:
        return {"resources": self.resources, "levels": self.levels, "present": present}


# --- residency-audit's own layout, a line at a time ---------------------------------------------------------------


class _NotNative(Exception):
    """The file is not in residency-audit's own layout: read it with the general parser instead."""


_ASSESSMENT = b', "assessment": '
_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")
_BATCH = 2000
_MAX_HEAD = 4 << 20  # a head (viewpoint, profile with its waivers) is kilobytes; more means another layout
_MAX_CACHED = 4096  # distinct assessment texts remembered (an estate has dozens; a hostile report, any number)


class _Native:
    """The layout `report.iter_json` writes: an indented head, then each array item on one line of its own.

    Whatever it accepts, a JSON parser reads the same way: the skeleton (the head with every array emptied) is
    parsed whole, every item line is parsed, commas are checked, and a resource line is split only at its last
    `, "assessment": `, which in valid JSON can only start the last member.
    """

    def __init__(self, path: Path, shown: str) -> None:
        self.path, self.shown = path, shown

    def run(self, on_resource: OnItem, on_finding: OnItem | None) -> dict[str, Any]:
        items = _Items(self.shown, on_resource, on_finding)
        skeleton: list[bytes] = []
        arrays: dict[str, list[Any]] = {}
        present: set[str] = set()
        section: str | None = None
        batch: list[bytes] = []
        last_item = b""
        size = 0
        with self.path.open("rb") as fh:
            first = fh.readline()
            if first.rstrip(b"\r\n") != b"{":
                raise _NotNative
            skeleton.append(b"{")
            for raw in fh:
                line = raw.rstrip(b"\n")
                if section is not None:
                    if line.startswith(b"    {"):
                        if last_item and not last_item.endswith(b","):
                            raise _NotNative
                        last_item = line
                        batch.append(line.removesuffix(b","))
                        if len(batch) >= _BATCH:
                            self._flush(section, batch, items, arrays)
                        continue
                    if line in (b"  ]", b"  ],") and last_item and not last_item.endswith(b","):
                        self._flush(section, batch, items, arrays)
                        skeleton.append(b'  "' + section.encode() + b'": []' + line[3:])
                        section = None
                        continue
                    raise _NotNative
                if line.startswith(b'  "') and line.endswith(b'": ['):
                    key = line[3:-4]
                    if b'"' in key or b"\\" in key:
                        raise _NotNative
                    section, last_item = key.decode(), b""
                    if section in present:
                        raise ReportError(f"{self.shown}: field {visible(section)!r} appears twice")
                    present.add(section)
                    continue
                skeleton.append(line)
                size += len(line)
                if size > _MAX_HEAD:
                    raise _NotNative  # not this layout (an indented whole report): never hold it
        if section is not None or skeleton[-1] != b"}":
            raise _NotNative
        try:
            head = json.loads(b"\n".join(skeleton), object_pairs_hook=_no_duplicates)
        except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise _NotNative from None
        if not isinstance(head, dict):
            raise _NotNative
        if any(head.get(k) not in (None, []) for k in _BIG):
            raise _NotNative  # an array laid out otherwise: streamed by the general reader
        present |= {k for k in _BIG if k in head and head[k] == []}
        for name in _BIG:
            if head.get(name) == []:
                del head[name]
        for name, values in arrays.items():
            head[name] = values
        return _head_checks(self.shown, head, items.counted(present))

    def _flush(self, section: str, batch: list[bytes], items: _Items, arrays: dict[str, list[Any]]) -> None:
        if not batch:
            return
        try:
            if section == "resources":
                self._resources(batch, items)
            elif section == "findings":
                values = _loads_lines(batch)
                for f in values:
                    items.finding(f)
            else:  # skipped, not_evaluated: small, kept for the head
                arrays.setdefault(section, []).extend(_loads_lines(batch))
        finally:
            batch.clear()

    def _resources(self, batch: list[bytes], items: _Items) -> None:
        """Resource lines, split at their members' boundaries: the parts many resources share parsed once.

        A line is `{identity, "footprint": …, "countries": …, "key_control": … "tags": …, "assessment": …}`.
        Each part must parse on its own as an object (or, the assessment, a value), so a split can only fall
        between members at the top of the line; merged in order, the parts are what a parser makes of the line.
        """
        idents, rests = [], []
        for line in batch:
            cut = line.rfind(_ASSESSMENT)
            if cut < 0 or line[-1] != 125:  # `}`: every resource line ends with its assessment
                raise _NotNative
            f = line.find(_FOOTPRINT, 0, cut)
            k = line.find(_KEY_CONTROL, f, cut) if f > 0 else -1
            if k > f > 0:
                idents.append(line[:f] + b"}")
                rests.append((line[f + 2 : k], line[k + 2 : cut], line[cut + _CUT : -1]))
            else:
                idents.append(line[:cut] + b"}")
                rests.append((b"", b"", line[cut + _CUT : -1]))
        footprints, keys, assessments = items.footprints, items.keys, items.assessments
        resource = items.resource
        for r, (fp_text, keys_text, tail) in zip(_loads_lines(idents), rests, strict=True):
            if type(r) is not dict or not r:
                raise _NotNative  # `{` alone before a cut: not valid JSON whole
            try:  # the identity: six strings (str.join checks them in one C call)
                "".join((r["provider"], r["account"], r["service"], r["type"], r["id"], r["name"]))
                checked = len(r) == 6
            except (KeyError, TypeError):
                checked = False
            hit = footprints.get(fp_text)
            if hit is None:
                hit = _piece(footprints, fp_text, _footprint_piece)
            r.update(hit[0])
            known = keys.get(keys_text)
            if known is None:
                known = _piece(keys, keys_text, _keys_piece)
            r.update(known[0])
            assessment = assessments.get(tail)
            if assessment is None:
                try:
                    a = json.loads(tail)
                except (ValueError, RecursionError):
                    raise _NotNative from None
                if _SURROGATE.search(tail):
                    _no_surrogates(items.shown, a, f"resources[{items.resources}].assessment")
                assessment = (a, _valid_assessment(a))
                if len(assessments) < _MAX_CACHED:
                    assessments[tail] = assessment
            r["assessment"] = assessment[0]
            resource(r, checked and hit[1] and known[1] and assessment[1])


_CUT = len(_ASSESSMENT)


def _piece(cache: dict[bytes, tuple[Any, bool]], text: bytes, check: Callable[[dict[str, Any]], bool]) -> Any:
    """A part of a resource line (members without their braces) parsed, and whether `check` finds it valid."""
    part = _loads_part(b"{" + text + b"}") if text else {}
    hit = (part, bool(part) and check(part))
    if len(cache) < _MAX_CACHED:
        cache[text] = hit
    return hit


def _footprint_piece(part: dict[str, Any]) -> bool:
    return part.keys() == {"footprint", "countries"} and _valid_footprint_part(part)


def _keys_piece(part: dict[str, Any]) -> bool:
    return part.keys() <= {"key_control", "key_note", "classification", "tags"} and _valid_keys_part(part)


def _loads_part(text: bytes) -> dict[str, Any]:
    if _SURROGATE.search(text):
        raise _NotNative  # the general reader names the field
    try:
        part = json.loads(text)
    except (ValueError, RecursionError):
        raise _NotNative from None
    if not isinstance(part, dict):  # pragma: no cover - `{…}` parses to an object or not at all
        raise _NotNative
    return part


_FOOTPRINT = b', "footprint": '
_KEY_CONTROL = b', "key_control": '


def _loads_lines(lines: list[bytes]) -> list[Any]:
    """Parse JSON lines in one call (one parse, not thousands); _NotNative if any is not one JSON value."""
    try:
        values: list[Any] = json.loads(b"[" + b",".join(lines) + b"]")
    except (ValueError, RecursionError):
        raise _NotNative from None
    if len(values) != len(lines):  # a line holding two values joined by a comma
        raise _NotNative
    if any(_SURROGATE.search(line) for line in lines):
        for value in values:
            try:
                json.dumps(value, ensure_ascii=False).encode("utf-8")
            except UnicodeEncodeError:
                raise _NotNative from None  # the general reader names the field
    return values


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise _Duplicate(next(k for i, (k, _) in enumerate(pairs) if k in dict(pairs[:i])))
    return out


class _Duplicate(ValueError):
    """A JSON object with the same key twice: which value is meant is not defined."""


# --- any other layout: a streaming parser -------------------------------------------------------------------------


def _generic(path: Path, shown: str, on_resource: OnItem, on_finding: OnItem | None) -> dict[str, Any]:
    import ijson

    items = _Items(shown, on_resource, on_finding)
    head, present = _generic_head(path, shown)
    _lone_surrogates(path, shown)
    counts: dict[str, int] = {}
    for key in _BIG:
        if key not in present or (key == "findings" and on_finding is None):
            continue
        with path.open("rb") as fh:
            try:
                for value in ijson.items(fh, f"{key}.item", use_float=True):
                    (items.resource if key == "resources" else items.finding)(value)
                    counts[key] = counts.get(key, 0) + 1
            except ijson.JSONError as exc:  # pragma: no cover - the first pass already parsed the whole file
                raise ReportError(f"{shown}: not valid JSON: {_first_line(exc)}") from None
    return _head_checks(shown, head, items.counted(present))


def _generic_head(path: Path, shown: str) -> tuple[dict[str, Any], set[str]]:
    """Every top-level field but the streamed arrays (whose presence is noted), checking syntax and depth."""
    import ijson
    from ijson.common import ObjectBuilder

    head: dict[str, Any] = {}
    present: set[str] = set()
    builder: ObjectBuilder | None = None
    key: str | None = None
    depth = 0
    streaming = False
    started = False
    with path.open("rb") as fh:
        try:
            for prefix, event, value in ijson.parse(fh, use_float=True):
                if event in ("start_map", "start_array"):
                    depth += 1
                    if depth > MAX_DEPTH:
                        raise ReportError(f"{shown}: JSON nested deeper than {MAX_DEPTH} levels: not a report")
                elif event in ("end_map", "end_array"):
                    depth -= 1
                if not started:
                    started = True
                    if event != "start_map":
                        raise ReportError(
                            f"{shown}: not a residency-audit report (the top level is not a JSON object); give "
                            "the output of `residency-audit scan --format json`"
                        )
                    continue
                if depth == 1 and event == "map_key":
                    key = value
                    if key in head or key in present:
                        raise ReportError(f"{shown}: field {visible(str(key))!r} appears twice")
                    builder, streaming = None, False
                    continue
                if depth == 0:
                    continue  # the closing brace
                if key in _BIG and prefix == key and event == "start_array" and depth == 2:
                    present.add(key)
                    streaming = True
                    continue
                if streaming:
                    continue
                if builder is None:
                    builder = ObjectBuilder()
                builder.event(event, value)
                if depth == 1:  # the value is complete
                    head[str(key)] = builder.value
                    builder = None
        except ijson.JSONError as exc:
            raise ReportError(f"{shown}: not valid JSON: {_first_line(exc)}") from None
        except UnicodeDecodeError:
            raise ReportError(f"{shown}: not UTF-8 text") from None
    if not started:
        raise ReportError(f"{shown}: empty file, not a report")
    return head, present


# a \\uXXXX escape of a surrogate, paired or not; `\\.` first consumes every other escape (so `\\\\ud800` is text)
_ESCAPES = re.compile(
    rb"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|(\\u[dD][89a-fA-F][0-9a-fA-F]{2})|\\."
)


def _lone_surrogates(path: Path, shown: str) -> None:
    """Refuse a lone surrogate escape (backslash-u D800 to DFFF, unpaired): ijson would read it as `?`."""
    import mmap

    if path.stat().st_size == 0:
        return
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        if data.find(b"\\u") < 0:
            return
        for match in _ESCAPES.finditer(data):
            if match.group(1):
                raise ReportError(
                    f"{shown}: a lone UTF-16 surrogate escape ({match.group(1).decode()}) at byte {match.start()} "
                    "is not text: give the report as the scan wrote it"
                )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return visible(text[0][:200]) if text else type(exc).__name__


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
        roles = _MEMBERS[CopyRole]
        key = tuple(
            (c["reported_as"] if "reported_as" in c else c["location"], c["role"], c.get("note")) for c in listed
        )
        footprint = shared.get(key)
        if footprint is None:
            footprint = tuple(Copy.make(code, roles[role], None, note) for code, role, note in key)
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
