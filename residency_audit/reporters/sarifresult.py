"""A SARIF result: written by hand at its depth in the log, the same text json.dumps(indent=2, sort_keys=True) writes.

json.dumps with an indent runs its pure-Python encoder; SARIF writes up to 25,000 results. `_result` is the
result as a dict, `_result_text` writes it in one call (the tests hold the two to the same text).
"""

from __future__ import annotations

import json
from typing import Any

FINGERPRINT_KEY = "residencyAudit/v1"
_MAX_REASONS = 3  # the message carries the first reasons; all of them are in properties.reasons
_Cited = tuple[Any, Any, Any]  # what a result shows of its resource: countries, level, foreign reach


_text = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) writes for a str


_LISTS: dict[tuple[str, ...], str] = {}


def _pretty(value: Any, pad: str) -> str:
    """`json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)`, each line after `pad`, but fast.

    json.dumps with an indent runs its pure-Python encoder; SARIF writes up to 25,000 results that way. This
    writes the same text (strings, lists of strings and scalars through the C encoder).
    """
    kind = type(value)
    if kind is str:
        return _text(value)
    if kind is dict:
        if not value:
            return "{}"
        inner = pad + "  "
        parts = []
        for k in sorted(value):
            v = value[k]
            parts.append(inner + _text(k) + ": " + (_text(v) if type(v) is str else _pretty(v, inner)))
        return "{" + ",".join(parts) + pad + "}"
    if kind is list:
        if not value:
            return "[]"
        if all(type(v) is str for v in value):  # reasons, countries: the same few lists again and again
            key = (pad, *value)
            text = _LISTS.get(key)
            if text is None:
                inner = pad + "  "
                text = "[" + ",".join([inner + _text(v) for v in value]) + pad + "]"
                if len(_LISTS) < 10_000:
                    _LISTS[key] = text
            return text
        inner = pad + "  "
        return "[" + ",".join([inner + _pretty(v, inner) for v in value]) + pad + "]"
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    return json.dumps(value)


def _result(f: dict[str, Any], rule_ids: list[str], resource: _Cited | None, uri: str | None) -> dict[str, Any]:
    """One result as a dict: what `_result_text` writes (the tests hold the two to the same text)."""
    countries, level, foreign = resource or ([], None, [])
    location: dict[str, Any] = {
        "logicalLocations": [
            {
                "name": f.get("name") or f.get("resource", ""),
                "fullyQualifiedName": f.get("resource", ""),
                "kind": "resource",
            }
        ]
    }
    if uri is not None:
        # the finding is about the cloud resource, not a line: point at the file the policy came from
        location["physicalLocation"] = {"artifactLocation": {"uri": uri, "index": 0}, "region": {"startLine": 1}}
    result: dict[str, Any] = {
        "ruleId": f["rule"],
        "ruleIndex": rule_ids.index(f["rule"]) if f["rule"] in rule_ids else -1,
        "level": f.get("severity", "warning"),
        "kind": "fail",
        "message": {"text": _message(f)},
        "locations": [location],
        "partialFingerprints": {FINGERPRINT_KEY: f.get("fingerprint", "")},
        "properties": {
            "provider": f.get("provider"),
            "account": f.get("account"),
            "service": f.get("service"),
            "countries": list(countries),
            "level": level,
            "foreignReach": list(foreign),
            "reasons": list(f.get("reasons", [])),
        },
    }
    waiver = f.get("waiver")
    if f.get("waived") and isinstance(waiver, dict):
        result["suppressions"] = [
            {"kind": "external", "justification": f"{waiver.get('reason', '')} (waived until {waiver.get('expires')})"}
        ]
    elif isinstance(waiver, dict) and waiver.get("expired"):
        result["properties"]["waiverExpired"] = waiver.get("expires")
    return result


def _result_text(f: dict[str, Any], rule_ids: list[str], resource: _Cited | None, uri: str | None) -> str:
    """`_pretty(_result(…), pad)` at a result's depth, written straight from the finding: one call per result.

    Indented as json.dumps(indent=2, sort_keys=True) indents a result at depth 4 (keys in sorted order).
    """
    countries, level, foreign = resource or ([], None, [])
    p = "\n          "  # the result's members
    q = p + "    "  # a location's members
    name = f.get("name") or f.get("resource", "")
    logical = (f"[{q}  {{{q}    \"fullyQualifiedName\": {_v(f.get('resource', ''))},"
               f"{q}    \"kind\": \"resource\",{q}    \"name\": {_v(name)}{q}  }}{q}]")  # fmt: skip
    location = f'{q}"logicalLocations": {logical}'
    if uri is not None:
        r = q + "  "
        location += (f",{q}\"physicalLocation\": {{{r}\"artifactLocation\": {{{r}  \"index\": 0,"
                     f"{r}  \"uri\": {_text(uri)}{r}}},{r}\"region\": {{{r}  \"startLine\": 1{r}}}{q}}}")  # fmt: skip
    pp = p + "  "
    props = [
        f'{pp}"account": {_v(f.get("account"))}',
        f'{pp}"countries": {_pretty(list(countries), pp)}',
        f'{pp}"foreignReach": {_pretty(list(foreign), pp)}',
        f'{pp}"level": {_v(level)}',
        f'{pp}"provider": {_v(f.get("provider"))}',
        f'{pp}"reasons": {_pretty(list(f.get("reasons", [])), pp)}',
        f'{pp}"service": {_v(f.get("service"))}',
    ]
    waiver = f.get("waiver")
    suppressions = ""
    if f.get("waived") and isinstance(waiver, dict):
        justification = f"{waiver.get('reason', '')} (waived until {waiver.get('expires')})"
        suppressions = (f",{p}\"suppressions\": [{pp}{{{pp}  \"justification\": {_text(justification)},{pp}  \"kind\": "
                        f"\"external\"{pp}}}{p}]")  # fmt: skip
    elif isinstance(waiver, dict) and waiver.get("expired"):
        props.append(f'{pp}"waiverExpired": {_v(waiver.get("expires"))}')
    rule = f["rule"]
    return (
        f'{{{p}"kind": "fail",{p}"level": {_v(f.get("severity", "warning"))},{p}"locations": [{p}  {{{location}'
        f'{p}  }}{p}],{p}"message": {{{pp}"text": {_text(_message(f))}{p}}},{p}"partialFingerprints": {{{pp}'
        f'"{FINGERPRINT_KEY}": {_v(f.get("fingerprint", ""))}{p}}},{p}"properties": {{{",".join(props)}{p}}},'
        f'{p}"ruleId": {_v(rule)},{p}"ruleIndex": {rule_ids.index(rule) if rule in rule_ids else -1}'
        f"{suppressions}\n        }}"
    )


def _v(value: Any) -> str:
    """A scalar as json.dumps writes it (a string through the C encoder)."""
    return _text(value) if type(value) is str else _pretty(value, "")


def _message(f: dict[str, Any]) -> str:
    who = f"{f.get('provider')}:{f.get('name') or f.get('resource')} ({f.get('resource')})"
    text = f"{f.get('title', f['rule'])} — {who}: {f.get('message', '')}"
    reasons = list(f.get("reasons", []))
    if reasons:
        text += "\nReasons: " + "; ".join(reasons[:_MAX_REASONS])
        if len(reasons) > _MAX_REASONS:
            text += f"; … {len(reasons) - _MAX_REASONS} more"
    return text
