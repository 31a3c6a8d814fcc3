"""One item of a saved report checked against the published schema, fast: the checks both readers share.

Each check agrees with the schema (report-v2.schema.json) and makes no message; an item that fails one is then
run through the schema itself (reportfile._schema_error), which names the field. `_Items` validates and counts
what the readers hand over, so the summary can be checked against it.
"""

from __future__ import annotations

import re
from typing import Any

from .model import CopyRole, KeyControl
from .reportfile import _LEVELS, _PROVIDERS, OnItem, ReportError, _schema_error
from .safe import visible

_TEXT = ("provider", "account", "service", "type", "id", "name")
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
            if "key_control" in c and c["key_control"] not in _KEYS:
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


def _footprint_part_ok(part: dict[str, Any]) -> bool:
    return part.keys() == {"footprint", "countries"} and _valid_footprint_part(part)


def _keys_part_ok(part: dict[str, Any]) -> bool:
    return part.keys() <= {"key_control", "key_note", "classification", "tags"} and _valid_keys_part(part)


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
        self.last: dict[tuple[bytes, bytes], tuple[bytes, tuple[Any, bool]]] = {}  # by footprint and keys parts

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
