"""SARIF 2.1.0 for GitHub code scanning: one run, the rule registry as the driver's rules, one result per finding.

Waived findings stay in the log with an external suppression (code scanning shows them as dismissed), and every
skip is a tool execution notification, so an incomplete scan is visible where the results are.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import PurePath
from typing import Any, TextIO
from urllib.parse import quote

from ..rules import RULES, Severity
from ..safe import relative
from . import Spool, Top, finding_order, resource_key, reverify_lines, severity_rank

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/residency-audit/"
FINGERPRINT_KEY = "residencyAudit/v1"
_MAX_REASONS = 3  # the message carries the first reasons; all of them are in properties.reasons
_DEFAULT_LEVEL = Severity.WARNING.value  # for a rule no finding in this report used


# GitHub code scanning rejects a run with more results than this (and shows the 5,000 most severe):
# https://docs.github.com/en/code-security/code-scanning/troubleshooting-sarif-uploads/results-exceed-limit
MAX_RESULTS = 25_000


def render(report: dict[str, Any], *, source_file: str | None = None) -> str:
    """The report as a SARIF 2.1.0 log (JSON text, keys sorted so the output is byte-stable).

    At most MAX_RESULTS results, the most severe first (waived ones last); a tool notification says how many
    were left out. The exit code and every other format count them all.
    """
    writer = Writer()
    for r in report.get("resources", []):
        writer.resource(r)
    for f in report.get("findings", []):
        writer.finding(f)
    buffer = io.StringIO()
    writer.write(buffer, report, source_file)
    return buffer.getvalue()


class Writer:
    """SARIF written from a stream: the MAX_RESULTS most severe findings kept, the resources they cite on disk."""

    lazy_findings = True  # a finding may come with only its ordering fields and `full()` for the rest

    light_resources = True  # reads only provider, account, service, id, countries and assessment of a resource

    def __init__(self) -> None:
        self.top = Top(MAX_RESULTS)
        self.total = 0
        self.spool = Spool("res(p, a, id, countries, level, fr)")

    def close(self) -> None:
        """Remove the on-disk table (also when the report is never written)."""
        self.spool.close()

    def resource(self, r: dict[str, Any]) -> None:
        """Take one resource dict (docs/report-format.md)."""
        assessment = r.get("assessment") or {}
        countries, foreign = "\x1f".join(r.get("countries", [])), "\x1f".join(assessment.get("foreign_reach", []))
        self.spool.add("res", (*resource_key(r), countries, assessment.get("level"), foreign))

    def finding(self, f: dict[str, Any]) -> None:
        """Take one finding dict."""
        self.total += 1
        self.top.add(finding_order(f), f)

    def write(self, out: TextIO, report: dict[str, Any], source_file: str | None) -> None:
        """Write the log."""
        findings = [f.full() if hasattr(f, "full") else f for f in self.top.items()]
        rule_ids = list(RULES)
        self.spool.query("CREATE INDEX k ON res(p, a, id)")
        self.spool.query("CREATE TABLE w(p, a, id)")
        wanted = {(str(f.get("provider", "")), str(f.get("account", "")), str(f.get("resource", ""))) for f in findings}
        self.spool.db.executemany("INSERT INTO w VALUES (?, ?, ?)", sorted(wanted))
        rows = self.spool.query(
            "SELECT w.p, w.a, w.id, r.countries, r.level, r.fr FROM w JOIN res r ON r.rowid = "
            "(SELECT max(rowid) FROM res WHERE p = w.p AND a = w.a AND id = w.id)"
        )  # the last resource of an id, as a dict by id keeps
        resources: dict[tuple[str, str, str], dict[str, Any]] = {}
        for p, a, rid, countries, level, foreign in rows:
            resources[(p, a, rid)] = {
                "countries": countries.split("\x1f") if countries else [],
                "assessment": {"level": level, "foreign_reach": foreign.split("\x1f") if foreign else []},
            }
        self.spool.close()
        uri = _artifact_uri(source_file or (report.get("source") or {}).get("path"))
        invocation = _invocation(report)
        invocation["toolExecutionNotifications"] += [_reverify(x) for x in reverify_lines(report)]
        if self.total > len(findings):
            invocation["toolExecutionNotifications"].append(
                {
                    "level": "warning",
                    "descriptor": {"id": "results-truncated"},
                    "message": {
                        "text": f"{self.total - len(findings)} further findings are not in this log: GitHub code "
                        f"scanning rejects more than {MAX_RESULTS} results per run. Every finding is in the JSON, "
                        "CSV, Markdown and HTML reports, and counts towards the exit code."
                    },
                }
            )
        run: dict[str, Any] = {
            "tool": {"driver": _driver(report, findings)},
            "automationDetails": {"id": f"residency-audit/{(report.get('source') or {}).get('kind', 'scan')}/"},
            "invocations": [invocation],
            "results": [],
            "properties": _run_properties(report),
        }
        if uri is not None:
            run["artifacts"] = [{"location": {"uri": uri}}]
        log = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
        text = json.dumps(log, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        before, after = text.split('\n      "results": [],', 1)
        out.write(before + '\n      "results": [')
        for i, f in enumerate(findings):
            result = _pretty(_result(f, rule_ids, resources, uri), "\n        ")
            out.write(("," if i else "") + "\n        " + result)
        out.write(("\n      ]," if findings else "],") + after)


_text = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) writes for a str


def _reverify(text: str) -> dict[str, Any]:
    return {"level": "warning", "descriptor": {"id": "re-verify"}, "message": {"text": text}}


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


def _driver(report: dict[str, Any], findings: list[dict[str, Any]]) -> dict[str, Any]:
    tool = report.get("tool") or {}
    return {
        "name": "residency-audit",
        "version": str(tool.get("version", "")),
        "semanticVersion": str(tool.get("version", "")),
        "informationUri": INFORMATION_URI,
        "rules": [_rule(rule_id, findings) for rule_id in RULES],
    }


def _rule(rule_id: str, findings: list[dict[str, Any]]) -> dict[str, Any]:
    rule = RULES[rule_id]
    # the registry has no fixed severity (a profile chooses it), so the default is the worst one this report used
    used = [f["severity"] for f in findings if f.get("rule") == rule_id]
    level = max(used, key=severity_rank) if used else _DEFAULT_LEVEL
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.help},
        "help": {
            "text": f"{rule.help}\n\nRemediation: {rule.remediation}",
            "markdown": f"{rule.help}\n\n**Remediation:** {rule.remediation}",
        },
        "defaultConfiguration": {"level": level},
        "properties": {"tags": ["data-residency", "jurisdiction", "compliance", rule.name]},
    }


def _result(
    f: dict[str, Any], rule_ids: list[str], resources: dict[tuple[str, str, str], dict[str, Any]], uri: str | None
) -> dict[str, Any]:
    resource = resources.get((str(f.get("provider", "")), str(f.get("account", "")), str(f.get("resource", ""))), {})
    assessment = resource.get("assessment") or {}
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
            "countries": list(resource.get("countries", [])),
            "level": assessment.get("level"),
            "foreignReach": list(assessment.get("foreign_reach", [])),
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


def _message(f: dict[str, Any]) -> str:
    who = f"{f.get('provider')}:{f.get('name') or f.get('resource')} ({f.get('resource')})"
    text = f"{f.get('title', f['rule'])} — {who}: {f.get('message', '')}"
    reasons = list(f.get("reasons", []))
    if reasons:
        text += "\nReasons: " + "; ".join(reasons[:_MAX_REASONS])
        if len(reasons) > _MAX_REASONS:
            text += f"; … {len(reasons) - _MAX_REASONS} more"
    return text


def _invocation(report: dict[str, Any]) -> dict[str, Any]:
    invocation: dict[str, Any] = {
        "executionSuccessful": bool(report.get("complete", True)),
        "toolExecutionNotifications": [
            {
                "level": "warning",
                "descriptor": {"id": "skipped"},
                "message": {"text": f"skipped {s.get('provider')} {s.get('scope')}: {s.get('reason')}"},
                "properties": {"provider": s.get("provider"), "scope": s.get("scope")},
            }
            for s in report.get("skipped", [])
        ]
        + [
            {"level": "note" if i == 0 else "warning", "descriptor": {"id": "coverage"}, "message": {"text": line}}
            for i, line in enumerate(_coverage_lines(report))
        ],
    }
    for key, field in (("startTimeUtc", "started_at"), ("endTimeUtc", "finished_at")):
        stamp = _utc(report.get(field))
        if stamp:
            invocation[key] = stamp
    return invocation


def _coverage_lines(report: dict[str, Any]) -> list[str]:
    from ..coverage import report_lines

    return report_lines(report)


def _run_properties(report: dict[str, Any]) -> dict[str, Any]:
    profile = report.get("profile") or {}
    summary = report.get("summary") or {}
    return {
        "viewpoint": (report.get("viewpoint") or {}).get("label"),
        "profile": profile.get("name"),
        "verdict": summary.get("verdict"),
        "complete": bool(report.get("complete", True)),
        "resources": summary.get("resources"),
        "skipped": summary.get("skipped"),
        "coverage": (report.get("coverage") or {}).get("summary"),
    }


def _artifact_uri(path: str | None) -> str | None:
    """A path as a relative, percent-encoded URI reference (what code scanning matches to the repository).

    An absolute path is made relative to the working directory: a `file:///home/…` URI would publish a user name.
    """
    if not path:
        return None
    pure = PurePath(path)
    if pure.is_absolute():
        pure = PurePath(relative(path))
    return quote(pure.as_posix(), safe="/")


def _utc(stamp: Any) -> str | None:
    """An ISO timestamp in SARIF's UTC form (`…Z`); None when absent or unreadable."""
    if not isinstance(stamp, str):
        return None
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
