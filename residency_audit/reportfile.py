"""Read a saved JSON report back into the model, so `check` can re-evaluate it offline with no credentials.

Only the facts a scan observed are read (footprint, key control, tags); assessments and findings are recomputed
with today's knowledge base and the given profile. Malformed input raises ReportError naming the file and field.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from .model import Copy, CopyRole, KeyControl, Provider, Resource, Skip
from .report import READABLE_VERSIONS, SCHEMA_VERSION


class ReportError(ValueError):
    """A report file that cannot be read; the message names the file, the field and the fix."""


def load_json(path: Path) -> Any:
    """Parse a JSON file, with a one-line error that says where it broke."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ReportError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ReportError(f"{path}: not UTF-8 text") from exc
    return _parse(path, text)


def _parse(path: Path, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        hint = " (the file looks truncated)" if exc.pos >= len(text.rstrip()) - 1 else ""
        raise ReportError(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}{hint}") from exc


def read(path: Path) -> tuple[list[Resource], list[Skip], dict[str, Any]]:
    """Resources, skips and the report's head (times, source) from a saved report.

    A report in residency-audit's own layout (one resource per line, "assessment" last) is streamed a line at a
    time without parsing the assessments, findings and reasons that `check` recomputes anyway: memory stays
    flat at any size. Any other layout of valid JSON (re-indented by jq, say) is parsed whole.
    """
    try:
        fast = _read_lines(path)
    except OSError as exc:
        raise ReportError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ReportError(f"{path}: not UTF-8 text") from exc
    if fast is not None:
        head, resources, skips = fast
        _check_version(path, head)
        return resources, skips, head
    data = load_json(path)
    if not isinstance(data, dict):
        raise ReportError(f"{path}: not a residency-audit report (no schema_version); give the output of "
                          "`residency-audit scan --format json`")  # fmt: skip
    _check_version(path, data)
    resources = [_resource(path, i, r) for i, r in enumerate(_list(path, data, "resources"))]
    skips = [_skip(path, i, s) for i, s in enumerate(_list(path, data, "skipped"))]
    return resources, skips, data


def _check_version(path: Path, data: dict[str, Any]) -> None:
    if "schema_version" not in data:
        raise ReportError(f"{path}: not a residency-audit report (no schema_version); give the output of "
                          "`residency-audit scan --format json`")  # fmt: skip
    if data["schema_version"] not in READABLE_VERSIONS:
        raise ReportError(
            f"{path}: schema_version {data['schema_version']!r} is not supported (this version reads "
            f"{SCHEMA_VERSION!r}); re-run the scan with this version"
        )


_ASSESSMENT = b', "assessment": '
_ITEM = b"    {"  # items of the top-level arrays: one per line, indented four spaces


def _read_lines(path: Path) -> tuple[dict[str, Any], list[Resource], list[Skip]] | None:
    """Stream a report written by residency-audit; None (to parse it whole) if it is laid out otherwise.

    Bytes, not text: most of each line is the assessment, which is cut off unread ("assessment" is the last key
    of a resource line, and a JSON string cannot hold the unescaped quotes that mark it). The kept parts are
    parsed in one call.
    """
    head_lines: list[bytes] = []
    resource_texts: list[bytes] = []
    skip_texts: list[bytes] = []
    section: bytes | None = None
    with path.open("rb") as fh:
        for raw in fh:
            line = raw.rstrip(b"\r\n")
            if section is None:
                if line.startswith(b'  "') and line.endswith(b": ["):
                    section = line.strip()[1:].split(b'"', 1)[0]
                elif not (line.startswith(b'  "') and line.rstrip(b",").endswith(b": []")):
                    head_lines.append(line)  # an empty top-level array is skipped: it adds nothing
                continue
            if line.startswith(b"  ]"):
                section = None
                continue
            if not line.startswith(_ITEM):
                return None
            text = line.strip().removesuffix(b",")
            if section == b"resources":
                cut = text.rfind(_ASSESSMENT)
                resource_texts.append(text[:cut] + b"}" if cut > 0 else text)
            elif section == b"skipped":
                skip_texts.append(text)
    if section is not None or not head_lines or head_lines[0] != b"{":
        return None
    try:
        head = json.loads(b"\n".join(head_lines[:-1]).rstrip().removesuffix(b",") + b"\n}")
        items = json.loads(b"[" + b",".join(resource_texts) + b"]")  # one parse, not 100,000
        skipped = json.loads(b"[" + b",".join(skip_texts) + b"]")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    del resource_texts
    if not isinstance(head, dict):
        return None
    shared: dict[tuple[Any, ...], tuple[Copy, ...]] = {}
    resources = [_resource(path, i, item, shared) for i, item in enumerate(items)]
    return head, resources, [_skip(path, i, s) for i, s in enumerate(skipped)]


def times(data: dict[str, Any]) -> tuple[datetime, datetime]:
    """When the saved scan started and finished."""
    return datetime.fromisoformat(data["started_at"]), datetime.fromisoformat(data["finished_at"])


def _list(path: Path, data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise ReportError(f"{path}: field '{key}' must be a list")
    return value


def _field(path: Path, where: str, item: Any, key: str, kind: type, required: bool = True) -> Any:
    if not isinstance(item, dict):
        raise ReportError(f"{path}: {where} must be an object")
    if key not in item or item[key] is None:
        if required:
            raise ReportError(f"{path}: {where}.{key} is missing")
        return None
    value = item[key]
    if not isinstance(value, kind):
        raise ReportError(f"{path}: {where}.{key} must be {kind.__name__}, got {value!r}")
    return value


_MEMBERS: dict[Any, dict[str, Any]] = {e: {m.value: m for m in e} for e in (Provider, CopyRole, KeyControl)}


def _enum(path: Path, where: str, enum: Any, value: str) -> Any:
    try:
        return _MEMBERS[enum][value]  # a dict lookup: Enum(value) is slow when called 400,000 times
    except KeyError:
        allowed = ", ".join(m.value for m in enum)
        raise ReportError(f"{path}: {where} is {value!r}, not one of {allowed}") from None


def _resource(path: Path, i: int, r: Any, shared: dict[tuple[Any, ...], tuple[Copy, ...]] | None = None) -> Resource:
    try:
        return _resource_fast(r, {} if shared is None else shared)
    except (KeyError, TypeError, ValueError, AttributeError):
        return _resource_checked(path, i, r)  # the careful path, to name the bad field


def _resource_fast(r: dict[str, Any], shared: dict[tuple[Any, ...], tuple[Copy, ...]]) -> Resource:
    """A well-formed resource, read without per-field checks (a million field checks cost a second at 100,000).

    Identical footprints share one tuple, which the locations stage then resolves once.
    """
    roles, keys = _MEMBERS[CopyRole], _MEMBERS[KeyControl]
    key = tuple(
        (c["reported_as"] if "reported_as" in c else c["location"], c["role"], c.get("note"), c.get("key_control"))
        for c in r["footprint"]
    )
    footprint = shared.get(key)
    if footprint is None:
        footprint = shared[key] = tuple(
            Copy.make(code, roles[role], None, note, None if ck is None else keys[ck]) for code, role, note, ck in key
        )
    texts = (r["account"], r["service"], r["type"], r["id"], r["name"])
    tags = r.get("tags") or {}
    # str.join raises TypeError on anything that is not text: one C call checks a whole group
    "".join(texts), "".join(c.code for c in footprint), "".join(tags), "".join(tags.values())
    account, service, rtype, rid, name = texts
    return Resource.make(
        provider=_MEMBERS[Provider][r["provider"]], account=account, service=service, type=rtype, id=rid, name=name,
        footprint=footprint, key_control=keys[r["key_control"]], tags=dict(tags),
        classification=r.get("classification"), key_note=r.get("key_note"),
    )  # fmt: skip


def _resource_checked(path: Path, i: int, r: Any) -> Resource:
    where = f"resources[{i}]"
    # identity first, in reading order, so the first error names the first bad field
    provider = _enum(path, f"{where}.provider", Provider, _field(path, where, r, "provider", str))
    account = _field(path, where, r, "account", str)
    service = _field(path, where, r, "service", str)
    rtype = _field(path, where, r, "type", str)
    rid = _field(path, where, r, "id", str)
    name = _field(path, where, r, "name", str)
    footprint = []
    for j, c in enumerate(_field(path, where, r, "footprint", list)):
        cw = f"{where}.footprint[{j}]"
        code = c.get("reported_as") if isinstance(c, dict) and "reported_as" in c else None
        if code is None:
            code = _field(path, cw, c, "location", str)
        footprint.append(
            Copy(
                str(code),
                _enum(path, f"{cw}.role", CopyRole, _field(path, cw, c, "role", str)),
                note=_field(path, cw, c, "note", str, required=False),
                key_control=_copy_keys(path, cw, c),
            )
        )
    tags = _field(path, where, r, "tags", dict, required=False) or {}
    return Resource(
        provider=provider,
        account=account,
        service=service,
        type=rtype,
        id=rid,
        name=name,
        footprint=tuple(footprint),
        key_control=_enum(path, f"{where}.key_control", KeyControl, _field(path, where, r, "key_control", str)),
        tags={str(k): str(v) for k, v in tags.items()},
        classification=_field(path, where, r, "classification", str, required=False),
        key_note=_field(path, where, r, "key_note", str, required=False),
    )


def _copy_keys(path: Path, where: str, c: Any) -> KeyControl | None:
    value = _field(path, where, c, "key_control", str, required=False)
    return None if value is None else _enum(path, f"{where}.key_control", KeyControl, value)


def _skip(path: Path, i: int, s: Any) -> Skip:
    where = f"skipped[{i}]"
    return Skip(
        _enum(path, f"{where}.provider", Provider, _field(path, where, s, "provider", str)),
        _field(path, where, s, "scope", str),
        _field(path, where, s, "reason", str),
    )
