"""The two layouts a saved report is read in, one item at a time (reportfile.py validates and counts the items).

residency-audit's own layout (docs/report-format.md: an indented head, then each array item on a line of its own)
is read a line at a time, the parts many resources share parsed once; any other layout of the same JSON is read
by a streaming parser (ijson). Whatever the first accepts, a JSON parser reads the same way; when in doubt it
says NotNative and the second reads the file.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .reportfile import _BIG, MAX_DEPTH, OnItem, ReportError, _head_checks, _no_surrogates
from .reportitems import _footprint_part_ok, _Items, _keys_part_ok, _valid_assessment
from .reportjson import loads, loads_head, lone_surrogates
from .safe import visible


def native(path: Path, shown: str, on_resource: OnItem, on_finding: OnItem | None) -> dict[str, Any]:
    """Read a report in residency-audit's own layout; NotNative (before or after some items) if it is not."""
    return _Native(path, shown).run(on_resource, on_finding)


def generic(path: Path, shown: str, on_resource: OnItem, on_finding: OnItem | None) -> dict[str, Any]:
    """Read a report in any JSON layout, in two passes (the head, then the arrays item by item)."""
    return _generic(path, shown, on_resource, on_finding)


class NotNative(Exception):
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
        # a section's array is left out of the skeleton, a string no file can foresee put in its place: the
        # skeleton parsed, it must be at the top level, or the section was nested in another field (valid JSON
        # that this layout would misread) and the general reader takes the file
        nonce = secrets.token_hex(8)
        placeholder, sentinel = f'"\\u0000{nonce}"'.encode(), f"\x00{nonce}"
        skeleton: list[bytes] = []
        arrays: dict[str, list[Any]] = {}
        present: set[str] = set()
        section: str | None = None
        batch: list[bytes] = []  # item lines as read, newline and comma still on (kilobytes each: not copied)
        comma: bool | None = None  # whether the section's last item line ended with a comma (None: no item yet)
        size = 0
        # lines are kilobytes (an assessment's reasons): a large buffer reads the file in few calls
        with self.path.open("rb", buffering=1 << 20) as fh:
            first = fh.readline()
            if first.rstrip(b"\r\n") != b"{":
                raise NotNative
            skeleton.append(b"{")
            for raw in fh:
                if section is not None and raw.startswith(b"    {"):
                    if comma is False:
                        raise NotNative
                    comma = raw.endswith(b",\n") or raw.endswith(b",")
                    batch.append(raw)
                    if len(batch) >= _BATCH:
                        self._flush(section, batch, items, arrays)
                    continue
                line = raw.rstrip(b"\n")
                if section is not None:
                    if line in (b"  ]", b"  ],") and comma is False:
                        self._flush(section, batch, items, arrays)
                        skeleton.append(b'  "' + section.encode() + b'": ' + placeholder + line[3:])
                        section = None
                        continue
                    raise NotNative
                if line.startswith(b'  "') and line.endswith(b'": ['):
                    key = line[3:-4]
                    if b'"' in key or b"\\" in key:
                        raise NotNative
                    section, comma = key.decode(), None
                    if section in present:
                        raise NotNative  # twice, or once nested elsewhere: the general reader tells which
                    present.add(section)
                    continue
                skeleton.append(line)
                size += len(line)
                if size > _MAX_HEAD:
                    raise NotNative  # not this layout (an indented whole report): never hold it
        if section is not None or skeleton[-1] != b"}":
            raise NotNative
        try:
            head = loads_head(b"\n".join(skeleton))
        except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise NotNative from None
        if not isinstance(head, dict):
            raise NotNative
        if any(head.get(name) != sentinel for name in present):
            raise NotNative  # a section nested in another field (its placeholder is not at the top level)
        if any(head.get(k) not in (None, [], sentinel) for k in _BIG):
            raise NotNative  # an array laid out otherwise: streamed by the general reader
        present |= {k for k in _BIG if k in head and head[k] == []}
        for name in _BIG:
            head.pop(name, None)
        for name in present - set(_BIG):
            head[name] = arrays.get(name, [])
        return _head_checks(self.shown, head, items.counted(present))

    def _flush(self, section: str, batch: list[bytes], items: _Items, arrays: dict[str, list[Any]]) -> None:
        if not batch:
            return
        try:
            if section == "resources":
                self._resources(batch, items)
            elif section == "findings":
                values = _loads_lines([_item(line) for line in batch])
                for f in values:
                    items.finding(f)
            else:  # skipped, not_evaluated: small, kept for the head
                arrays.setdefault(section, []).extend(_loads_lines([_item(line) for line in batch]))
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
            end = _end(line)
            if line[end - 1] != 125:  # `}`: every resource line ends with its assessment
                raise NotNative
            f = line.find(_FOOTPRINT, 0, end)
            # the resource's own key_control follows its countries (`]`); a copy's follows the copy's note
            k = line.find(_KEY_CONTROL, f, end) + 1 if f > 0 else -1
            # the assessment is the line's last member and kilobytes long: look for its start from the short
            # members before it (a split at an earlier `, "assessment": `, inside tags, leaves parts that do not
            # parse, so the general reader takes the file)
            cut = line.find(_ASSESSMENT, k, end) if k > f > 0 else line.rfind(_ASSESSMENT, 0, end)
            if cut < 0:
                raise NotNative
            if k > f > 0 and k < cut:
                idents.append(line[:f] + b"}")
                rests.append((line[f + 2 : k], line[k + 2 : cut], line, cut + _CUT, end))
            else:
                idents.append(line[:cut] + b"}")
                rests.append((b"", b"", line, cut + _CUT, end))
        footprints, keys, assessments, last = items.footprints, items.keys, items.assessments, items.last
        resource = items.resource
        for r, (fp_text, keys_text, line, start, end) in zip(_loads_lines(idents), rests, strict=True):
            if type(r) is not dict or not r:
                raise NotNative  # `{` alone before a cut: not valid JSON whole
            try:  # the identity: six strings (str.join checks them in one C call)
                "".join((r["provider"], r["account"], r["service"], r["type"], r["id"], r["name"]))
                checked = len(r) == 6
            except (KeyError, TypeError):
                checked = False
            hit = footprints.get(fp_text)
            if hit is None:
                hit = _piece(footprints, fp_text, _footprint_part_ok)
            r.update(hit[0])
            known = keys.get(keys_text)
            if known is None:
                known = _piece(keys, keys_text, _keys_part_ok)
            r.update(known[0])
            # resources with the same places and keys mostly carry the same assessment text: compared in place
            # (memcmp) with the last one seen beside them, it is neither cut out nor hashed
            parts = (fp_text, keys_text)
            seen = last.get(parts)
            if seen is not None and end - 1 - start == len(seen[0]) and line.startswith(seen[0], start):
                assessment = seen[1]
            else:
                tail = line[start : end - 1]
                cached = assessments.get(tail)
                if cached is not None:
                    assessment = cached
                else:
                    try:
                        a = loads(tail)
                    except (ValueError, RecursionError):
                        raise NotNative from None
                    if _SURROGATE.search(tail):
                        _no_surrogates(items.shown, a, f"resources[{items.resources}].assessment")
                    assessment = (a, _valid_assessment(a))
                    if len(assessments) < _MAX_CACHED:
                        assessments[tail] = assessment
                if len(last) < _MAX_CACHED:
                    last[parts] = (tail, assessment)
            r["assessment"] = assessment[0]
            resource(r, checked and hit[1] and known[1] and assessment[1])


_CUT = len(_ASSESSMENT)


def _end(line: bytes) -> int:
    """Where an item line as read ends without its newline and its comma."""
    end = len(line)
    if line[end - 1] == 10:  # \n
        end -= 1
    if line[end - 1] == 44:  # ,
        end -= 1
    return end


def _item(line: bytes) -> bytes:
    """An item line as read without its newline and its comma."""
    return line[: _end(line)]


def _piece(cache: dict[bytes, tuple[Any, bool]], text: bytes, check: Callable[[dict[str, Any]], bool]) -> Any:
    """A part of a resource line (members without their braces) parsed, and whether `check` finds it valid."""
    part = _loads_part(b"{" + text + b"}") if text else {}
    hit = (part, bool(part) and check(part))
    if len(cache) < _MAX_CACHED:
        cache[text] = hit
    return hit


def _loads_part(text: bytes) -> dict[str, Any]:
    if _SURROGATE.search(text):
        raise NotNative  # the general reader names the field
    try:
        part = loads(text)
    except (ValueError, RecursionError):
        raise NotNative from None
    if not isinstance(part, dict):  # pragma: no cover - `{…}` parses to an object or not at all
        raise NotNative
    return part


_FOOTPRINT = b', "footprint": '
_KEY_CONTROL = b'], "key_control": '


def _loads_lines(lines: list[bytes]) -> list[Any]:
    """Parse JSON lines in one call (one parse, not thousands); NotNative if any is not one JSON value."""
    try:
        values: list[Any] = loads(b"[" + b",".join(lines) + b"]")
    except (ValueError, RecursionError):
        raise NotNative from None
    if len(values) != len(lines):  # a line holding two values joined by a comma
        raise NotNative
    if any(_SURROGATE.search(line) for line in lines):
        for value in values:
            try:
                json.dumps(value, ensure_ascii=False).encode("utf-8")
            except UnicodeEncodeError:
                raise NotNative from None  # the general reader names the field
    return values


# --- any other layout: a streaming parser -------------------------------------------------------------------------


def _generic(path: Path, shown: str, on_resource: OnItem, on_finding: OnItem | None) -> dict[str, Any]:
    import ijson

    items = _Items(shown, on_resource, on_finding)
    head, present = _generic_head(path, shown)
    lone_surrogates(path, shown)
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


def _first_line(exc: BaseException) -> str:
    said = exc.args[0] if exc.args else ""
    # ijson's C backend gives yajl's message as bytes: their text, not their repr
    text = (said.decode("utf-8", "replace") if isinstance(said, bytes) else str(exc)).strip().splitlines()
    if text and "invalid bytes in UTF8 string" in text[0]:
        return "not UTF-8 text (save the report as UTF-8)"
    return visible(text[0][:200]) if text else type(exc).__name__
