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

from ..model import Finding, Resource
from ..rules import RULES, Severity
from ..safe import relative
from . import Top, finding_order, resource_key, reverify_lines, severity_rank
from .sarifresult import FINGERPRINT_KEY as FINGERPRINT_KEY
from .sarifresult import _Cited, _result_text

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/residency-audit/"
_DEFAULT_LEVEL = Severity.WARNING.value  # for a rule no finding in this report used
_RANKS = {"error": -2, "warning": -1, "note": 0}  # -severity_rank, as finding_order sorts


# GitHub code scanning rejects a run with more results than this (and shows the 5,000 most severe):
# https://docs.github.com/en/code-security/code-scanning/troubleshooting-sarif-uploads/results-exceed-limit
MAX_RESULTS = 25_000


def render(report: dict[str, Any], *, source_file: str | None = None) -> str:
    """The report as a SARIF 2.1.0 log (JSON text, keys sorted so the output is byte-stable).

    At most MAX_RESULTS results, the most severe first (waived ones last); a tool notification says how many
    were left out. The exit code and every other format count them all.
    """
    # the whole report is in memory: findings look their resource up in it (a stream has each beside its own)
    index = {resource_key(r): _cited(r) for r in report.get("resources", [])}
    writer = Writer(index)
    for r in report.get("resources", []):
        writer.resource(r)
    for f in report.get("findings", []):
        writer.finding(f)
    buffer = io.StringIO()
    writer.write(buffer, report, source_file)
    return buffer.getvalue()


_Key = tuple[str, str, str]


def _cited(r: dict[str, Any]) -> _Cited:
    assessment = r.get("assessment") or {}
    return (r.get("countries", []), assessment.get("level"), assessment.get("foreign_reach", []))


class Writer:
    """SARIF written from a stream: the MAX_RESULTS most severe findings, and what they show of their resources.

    Memory is bounded by MAX_RESULTS, not by the report.
    A stream hands each resource's findings over right after it: a finding takes its resource from there. A
    later resource with the same id replaces it (the last one wins, as a dict by id keeps). A finding raised
    at the end (an expired waiver, RA005) cites the resource of the first finding that waiver covered, so that
    resource is kept from the start.
    """

    model = True  # a streamed Run hands over the model's resources and findings (`add`, `extra`)

    def __init__(self, index: dict[_Key, _Cited] | None = None) -> None:
        self.top = Top(MAX_RESULTS)
        self.total = 0
        self.index = index or {}
        self.current: tuple[_Key, _Cited] | None = None
        self.cited: dict[_Key, _Cited] = {}
        self.pinned: set[_Key] = set()  # the first finding of each expired waiver: RA005 may cite it at the end
        self.expired: set[object] = set()
        self.shown: dict[int, tuple[Any, Any, _Cited]] = {}

    def close(self) -> None:
        """Nothing to remove: the writer holds no file."""

    def add(self, r: Resource, findings: list[Finding]) -> None:
        """Take one resource of the model and its findings (a streamed `check`: no dicts made for them)."""
        key = (str(r.provider), r.account, r.id)
        cited = self.cited
        if findings or key in cited:
            a = r.assessment
            hit = self.shown.get(id(a))  # resources share assessments (and the footprints they were made from)
            if hit is None or hit[0] is not a or hit[1] is not r.footprint:
                if len(self.shown) > 10_000:
                    self.shown.clear()
                data = (list(r.countries), str(a.level), list(a.foreign_reach)) if a else (list(r.countries), None, [])
                hit = self.shown[id(a)] = (a, r.footprint, data)
            cited[key] = hit[2]
        self.extra(findings, key)

    def extra(self, findings: list[Finding], key: _Key | None = None) -> None:
        """Take findings of the model: a resource's (`key`), or raised at the end (expired waivers)."""
        top, ranks = self.top, _RANKS
        for f in findings:
            self.total += 1
            k = key or (str(f.provider), f.account, f.resource_id)
            waiver = f.waiver
            if waiver is not None and f.expired_waiver and waiver not in self.expired:
                self.expired.add(waiver)
                self.pinned.add(k)
            top.add((waiver is not None and not f.expired_waiver, ranks.get(f.severity, 0), f.rule, *k), f)
        if len(self.cited) > 4 * MAX_RESULTS + len(self.pinned):
            self._prune()

    def _prune(self) -> None:
        """Keep only what the kept findings (and the expired waivers' first findings) cite."""
        keep = {_finding_key(f) for _, _, f in self.top.kept} | self.pinned
        self.cited = {k: v for k, v in self.cited.items() if k in keep}

    def resource(self, r: dict[str, Any]) -> None:
        """Take one resource dict (docs/report-format.md)."""
        key = (str(r.get("provider", "")), str(r.get("account", "")), str(r.get("id", "")))
        self.current = (key, _cited(r))
        if key in self.cited:
            self.cited[key] = self.current[1]

    def finding(self, f: dict[str, Any]) -> None:
        """Take one finding dict."""
        self.total += 1
        key = (str(f.get("provider", "")), str(f.get("account", "")), str(f.get("resource", "")))
        current = self.current
        if current is not None and current[0] == key:
            self.cited[key] = current[1]
        waiver = _expired_waiver(f)
        if waiver is not None and waiver not in self.expired:
            self.expired.add(waiver)
            self.pinned.add(key)
        self.top.add(finding_order(f), f)
        if len(self.cited) > 4 * MAX_RESULTS + len(self.pinned):
            self._prune()

    def write(self, out: TextIO, report: dict[str, Any], source_file: str | None) -> None:
        """Write the log."""
        from ..serialize import finding as serialised  # the findings kept from the model, as the report has them

        findings = [serialised(f) if isinstance(f, Finding) else f for f in self.top.items()]
        rule_ids = list(RULES)
        cited, index = self.cited, self.index
        resources = {}
        for f in findings:
            key = _finding_key(f)
            found = cited.get(key) or index.get(key)
            resources[key] = found
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
            result = _result_text(f, rule_ids, resources.get(_finding_key(f)), uri)
            out.write(("," if i else "") + "\n        " + result)
        out.write(("\n      ]," if findings else "],") + after)


def _reverify(text: str) -> dict[str, Any]:
    return {"level": "warning", "descriptor": {"id": "re-verify"}, "message": {"text": text}}


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


def _finding_key(f: Any) -> _Key:
    if isinstance(f, Finding):
        return (str(f.provider), f.account, f.resource_id)
    return (str(f.get("provider", "")), str(f.get("account", "")), str(f.get("resource", "")))


def _expired_waiver(f: dict[str, Any]) -> object:
    """The expired waiver a finding carries (whose RA005, raised at the end, cites this finding's resource)."""
    waiver = f.get("waiver")
    if isinstance(waiver, dict) and waiver.get("expired"):
        return (waiver.get("resource"), waiver.get("rule"), waiver.get("reason"), waiver.get("expires"))
    return None


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
