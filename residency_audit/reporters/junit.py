"""JUnit XML for CI test-report views: one suite per provider, one case per resource, one failure per finding.

An unwaived error or warning fails its resource's case; a resource whose findings are all waived (or notes) is
skipped with the reasons; a `scan-completeness` case fails when anything could not be read.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from typing import Any, TextIO

from ..safe import xml_text
from . import Spool, resource_key, reverify_lines, severity_rank

_FAILING = ("error", "warning")
_MAX_TEXTS = 20_000  # distinct finding details held in memory (an estate has dozens); the rest go to disk


def render(report: dict[str, Any], *, source_file: str | None = None) -> str:
    """The report as a JUnit XML document (`<testsuites>`); `source_file` becomes each suite's `file` attribute."""
    writer = Writer()
    for r in report.get("resources", []):
        writer.resource(r)
    for f in report.get("findings", []):
        writer.finding(f)
    buffer = io.StringIO()
    writer.write(buffer, report, source_file)
    return buffer.getvalue()


class Writer:
    """JUnit XML written from a stream: resources and findings in any order, then `write` once (sorted on disk)."""

    finding_fields = (
        "provider",
        "account",
        "resource",
        "rule",
        "title",
        "severity",
        "waived",
        "message",
        "reasons",
        "waiver",
    )  # what `finding` reads

    light_resources = True  # reads only provider, account, service, id, countries and assessment of a resource

    def __init__(self) -> None:
        self.spool = Spool(
            "res(p, s, a, id, seq)", "fnd(p, a, r, waived, sev, rule, seq, failing, title, severity, details)"
        )
        self.seq = 0
        # a finding's details (message and reasons, a kilobyte) repeat across the resources of one kind: each
        # distinct text is kept once and the table holds its number, so what SQLite stores and sorts stays small
        self.texts: dict[str, int] = {}
        self.by_number: list[str] = []

    def close(self) -> None:
        """Remove the on-disk table (also when the report is never written)."""
        self.spool.close()

    def resource(self, r: dict[str, Any]) -> None:
        """Take one resource dict (docs/report-format.md)."""
        p, a, rid = resource_key(r)
        self.spool.add("res", (p, r.get("service", ""), a, rid, self.seq))
        self.seq += 1

    def finding(self, f: dict[str, Any]) -> None:
        """Take one finding dict."""
        key = (str(f.get("provider", "")), str(f.get("account", "")), str(f.get("resource", "")))
        waived = bool(f.get("waived"))
        failing = not waived and f.get("severity") in _FAILING
        rank = -severity_rank(f.get("severity", "note"))
        row = (waived, rank, str(f.get("rule", "")), self.seq, failing, str(f.get("title", "")), str(f.get("severity")))
        details = _details(f)
        number = self.texts.get(details)
        if number is None and len(self.by_number) < _MAX_TEXTS:
            number = self.texts[details] = len(self.by_number)
            self.by_number.append(details)
        self.spool.add("fnd", (*key, *row, details if number is None else number))
        self.seq += 1

    def write(self, out: TextIO, report: dict[str, Any], source_file: str | None) -> None:
        """Write the document: one suite per provider, its cases by service, account and id."""
        q = self.spool.query
        q("CREATE INDEX fk ON fnd(p, a, r)")
        match = "f.p = r.p AND f.a = r.a AND f.r = r.id"
        suites = q(
            f"SELECT p, count(*), sum(EXISTS(SELECT 1 FROM fnd f WHERE {match} AND failing)), "
            f"sum(EXISTS(SELECT 1 FROM fnd f WHERE {match}) AND NOT EXISTS(SELECT 1 FROM fnd f WHERE {match} "
            "AND failing)) FROM res r GROUP BY p ORDER BY p"
        ).fetchall()
        # the completeness suite (skips, coverage) is built first: the root's totals count its cases too
        root = ET.Element("testsuites")
        _completeness(root, report)
        if reverify_lines(report):  # facts to re-verify: skipped cases, visible without failing the suite
            kb_suite = ET.SubElement(root, "testsuite", name="knowledge-base")
            for x in reverify_lines(report):
                kb_case = ET.SubElement(kb_suite, "testcase", name="re-verify", classname="knowledge-base")
                ET.SubElement(kb_case, "skipped", message=xml_text(x))
            _totals(kb_suite)
        ET.indent(root)
        closing = ET.tostring(root, encoding="unicode").split("\n", 1)[1].rsplit("\n", 1)[0] + "\n"
        cases = list(root.iter("testcase"))
        tests = sum(s[1] for s in suites) + len(cases)
        failures = sum(s[2] for s in suites) + sum(1 for c in cases if c.find("failure") is not None)
        skips = sum(s[3] for s in suites) + sum(1 for c in cases if c.find("skipped") is not None)
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        out.write(f'<testsuites name="residency-audit" tests="{tests}" failures="{failures}" errors="0" '
                  f'skipped="{skips}">\n')  # fmt: skip
        rows = q(
            f"SELECT r.seq, r.p, r.s, r.id, f.rule, f.title, f.severity, f.waived, f.details FROM res r "
            f"LEFT JOIN fnd f ON {match} "
            "ORDER BY r.p, r.s, r.a, r.id, r.seq, f.waived, f.sev, f.rule, f.seq"
        )
        suite_of = {s[0]: s for s in suites}
        provider: str | None = None
        case: list[Any] = []
        for seq, p, service, rid, *finding in rows:
            if case and case[0] != seq:
                _write_case(out, case)
                case = []
            if p != provider:
                if provider is not None:
                    out.write("  </testsuite>\n")
                provider = p
                _, n, failed, skips = suite_of[p]
                suite = ET.Element("testsuite", name=p)
                if source_file:
                    suite.set("file", source_file)
                for k, v in (("tests", n), ("failures", failed), ("errors", 0), ("skipped", skips)):
                    suite.set(k, str(v))
                out.write("  " + ET.tostring(suite, encoding="unicode").removesuffix(" />") + ">\n")
            if not case:
                case = [seq, p, service, rid, []]
            if finding[0] is not None:
                if type(finding[-1]) is int:
                    finding[-1] = self.by_number[finding[-1]]
                case[4].append(finding)
        if case:
            _write_case(out, case)
        if provider is not None:
            out.write("  </testsuite>\n")
        self.spool.close()
        out.write(closing)
        out.write("</testsuites>\n")


def _write_case(out: TextIO, case: list[Any]) -> None:
    """One `<testcase>`, written as ElementTree (indented by ET.indent) writes it, without building a tree."""
    _, provider, service, rid, findings = case
    head = f'    <testcase classname="{_attr(f"{provider}.{service}")}" name="{_attr(rid)}"'
    failing = [f for f in findings if not f[3] and f[2] in _FAILING]
    children = [
        f'      <failure message="{_attr(f"{rule} {title}")}" type="{_attr(severity)}">{_text(details)}</failure>'
        for rule, title, severity, _, details in failing
    ]
    if not failing and findings:
        waived = sorted({str(f[0]) for f in findings if f[3]})
        notes = sorted({str(f[0]) for f in findings})
        message = "waived: " + ", ".join(waived) if waived else "notes: " + ", ".join(notes)
        text = _text("\n\n".join(f[4] for f in findings))
        children.append(f'      <skipped message="{_attr(message)}">{text}</skipped>')
    if not children:
        out.write(head + " />\n")
        return
    out.write(head + ">\n" + "\n".join(children) + "\n    </testcase>\n")


_PLAIN = re.compile(r"[^&<>\"\x00-\x1f\ud800-\udfff\ufffe\uffff]*")


def _attr(value: str) -> str:
    if _PLAIN.fullmatch(value):
        return value
    text = xml_text(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    return text.replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#09;")


_PLAIN_TEXT = re.compile("[^&<>\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]*")


def _text(value: str) -> str:
    # a finding's details are the same few (kilobyte) strings again and again, the very objects the Writer keeps:
    # their hash is cached, so the look-up costs less than scanning them
    text = _TEXTS.get(value)
    if text is None:
        if _PLAIN_TEXT.fullmatch(value):
            text = value
        else:
            text = xml_text(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        if len(_TEXTS) >= 4096:
            _TEXTS.clear()
        if len(value) <= 1 << 16:  # bounded: at most 4096 texts of at most 64 KB
            _TEXTS[value] = text
    return text


_TEXTS: dict[str, str] = {}


def _details(f: dict[str, Any]) -> str:
    lines = [f"{f.get('rule')} {f.get('title', '')}: {f.get('message', '')}"]
    lines += [f"- {reason}" for reason in f.get("reasons", [])]
    waiver = f.get("waiver")
    if isinstance(waiver, dict):
        state = "expired" if waiver.get("expired") else "waived"
        lines.append(f"{state} until {waiver.get('expires')}: {waiver.get('reason')}")
    return "\n".join(lines)


def _completeness(root: ET.Element, report: dict[str, Any]) -> None:
    suite = ET.SubElement(root, "testsuite", name="residency-audit")
    case = ET.SubElement(suite, "testcase", classname="residency-audit", name="scan-completeness")
    skipped = report.get("skipped", [])
    if skipped:
        failure = ET.SubElement(
            case, "failure", message=f"{len(skipped)} scope(s) could not be read", type="incomplete"
        )
        failure.text = xml_text("\n".join(f"{s.get('provider')} {s.get('scope')}: {s.get('reason')}" for s in skipped))
    _coverage(suite, report)
    _totals(suite)


def _coverage(suite: ET.Element, report: dict[str, Any]) -> None:
    from ..coverage import report_incomplete, report_lines

    lines = report_lines(report)
    if not lines:
        return
    case = ET.SubElement(suite, "testcase", classname="residency-audit", name="coverage")
    if report_incomplete(report):
        failure = ET.SubElement(case, "failure", message=lines[0], type="incomplete")
        failure.text = "\n".join(lines[1:])
    ET.SubElement(case, "system-out").text = "\n".join(lines)


def _totals(element: ET.Element) -> None:
    """Set tests/failures/errors/skipped on a suite (from its cases) or on the root (from its suites)."""
    cases = list(element.iter("testcase"))
    element.set("tests", str(len(cases)))
    # JUnit counts failed test cases, not failure elements (a resource with two findings is one failed case)
    element.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
    element.set("errors", "0")
    element.set("skipped", str(sum(1 for c in cases if c.find("skipped") is not None)))
