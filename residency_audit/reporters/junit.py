"""JUnit XML for CI test-report views: one suite per provider, one case per resource, one failure per finding.

An unwaived error or warning fails its resource's case; a resource whose findings are all waived (or notes) is
skipped with the reasons; a `scan-completeness` case fails when anything could not be read.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from typing import Any, TextIO

from ..model import Finding, Provider, Resource
from ..rules import RULES
from ..safe import xml_text
from . import resource_key, reverify_lines, severity_rank
from .spill import Seen, Sorted, text_key

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
    """JUnit XML written from a stream: resources and findings in any order, then `write` once (sorted on disk).

    Each case is written as XML when its resource arrives, with the findings handed over right after it, and
    sorted on disk. Findings that come later (expired waivers, or every finding when a whole report is rendered)
    and resources whose id was seen before (a case lists every finding on its id) are merged in at the end.
    """

    model = True  # a streamed Run hands over the model's resources and findings (`add`, `extra`)

    def __init__(self) -> None:
        self.rows = Sorted()
        self.seen = Seen()
        self.twice: set[str] = set()  # ids that may have been seen before (a Bloom filter's "maybe")
        self.late: dict[str, list[_Entry]] = {}  # findings not beside their resource, by id
        self.counts: dict[str, list[int]] = {}  # per provider: cases, failed cases, skipped cases
        self.seq = 0
        self.pending: list[Any] | None = None  # a resource dict whose findings may follow
        # a finding's details (message and reasons, a kilobyte) and a case's children repeat across the resources
        # of one kind: made once each (bounded), the same string objects again and again
        self.details: dict[tuple[Any, ...], str] = {}
        self.bodies: dict[tuple[Any, ...], tuple[str, int]] = {}
        self.heads: dict[tuple[str, str], str] = {}

    def close(self) -> None:
        """Remove the spilled cases (also when the report is never written)."""
        self.rows.close()

    def add(self, r: Resource, findings: list[Finding]) -> None:
        """Take one resource of the model and its findings (a streamed `check`: no dicts made for them)."""
        p = _PROVIDERS[r.provider]
        entries = [self._entry(f) for f in findings] if findings else []
        self._put(p, r.service, r.account, r.id, entries)

    def extra(self, findings: list[Finding]) -> None:
        """Take findings raised after every resource (expired waivers)."""
        for f in findings:
            key = text_key(_PROVIDERS[f.provider], f.account, f.resource_id)
            self.late.setdefault(key, []).append(self._entry(f))

    def _entry(self, f: Finding) -> _Entry:
        waiver = f.waiver
        waived = waiver is not None and not f.expired_waiver
        memo = (f.rule, f.message, f.reasons, waiver, f.expired_waiver)
        details = self.details.get(memo)
        if details is None:
            if len(self.details) >= _MAX_TEXTS:
                self.details.clear()
            fields = {"rule": f.rule, "title": RULES[f.rule].title, "message": f.message, "reasons": f.reasons,
                      "waiver": {"expires": waiver.expires.isoformat(), "reason": waiver.reason,
                                 "expired": f.expired_waiver} if waiver else None}  # fmt: skip
            details = self.details[memo] = _details(fields)
        self.seq += 1
        return (waived, _RANKS.get(f.severity, 0), f.rule, self.seq, RULES[f.rule].title, f.severity, details)

    def resource(self, r: dict[str, Any]) -> None:
        """Take one resource dict (docs/report-format.md)."""
        self._flush()
        p, a, rid = resource_key(r)
        self.pending = [p, str(r.get("service", "")), a, rid, []]

    def finding(self, f: dict[str, Any]) -> None:
        """Take one finding dict."""
        p, a, rid = (str(f.get("provider", "")), str(f.get("account", "")), str(f.get("resource", "")))
        self.seq += 1
        entry = (bool(f.get("waived")), -severity_rank(f.get("severity", "note")), str(f.get("rule", "")), self.seq,
                 str(f.get("title", "")), str(f.get("severity")), _details(f))  # fmt: skip
        pending = self.pending
        if pending is not None and (pending[0], pending[2], pending[3]) == (p, a, rid):
            pending[4].append(entry)
        else:
            self.late.setdefault(text_key(p, a, rid), []).append(entry)

    def _flush(self) -> None:
        if self.pending is not None:
            self._put(*self.pending)
            self.pending = None

    def _put(self, p: str, service: str, account: str, rid: str, entries: list[_Entry]) -> None:
        key = text_key(p, account, rid)
        if self.seen.add(key):
            self.twice.add(key)
        entries.sort()
        start, body, status = self._case(p, service, rid, entries)
        counts = self.counts.get(p)
        if counts is None:
            counts = self.counts[p] = [0, 0, 0]
        counts[0] += 1
        if status:
            counts[status] += 1
        # the body (a kilobyte of findings) is one shared string: pickled once per block, not once per case
        self.rows.add(text_key(p, service, account, rid), (start, body, key, p, service, rid, entries, status))

    def _case(self, p: str, service: str, rid: str, entries: list[_Entry]) -> tuple[str, str, int]:
        """A case's XML (its start and the rest) and its state: 0 passed, 1 failed, 2 skipped."""
        head = self.heads.get((p, service))
        if head is None:
            if len(self.heads) >= 4096:
                self.heads.clear()
            head = self.heads[(p, service)] = f'    <testcase classname="{_attr(f"{p}.{service}")}" name="'
        start = head + (rid if not _SPECIAL.search(rid) else _attr(rid))
        if not entries:
            return start, '" />\n', 0
        shown = tuple((e[2], e[4], e[5], e[0], e[6]) for e in entries)  # rule, title, severity, waived, details
        body = self.bodies.get(shown)
        if body is None:
            if len(self.bodies) >= 4096:
                self.bodies.clear()
            body = self.bodies[shown] = _case_body(shown)
        return start, body[0], body[1]

    def write(self, out: TextIO, report: dict[str, Any], source_file: str | None) -> None:
        """Write the document: one suite per provider, its cases by service, account and id."""
        self._flush()
        merged = self._merged()
        suites = [(p, c[0], c[1], c[2]) for p, c in sorted(self.counts.items())]
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
        suite_of = {s[0]: s for s in suites}
        provider: str | None = None
        lines: list[str] = []
        for _, (start, body, key, p, service, rid, entries, _) in self.rows.keyed():
            if p != provider:
                if provider is not None:
                    lines.append("  </testsuite>\n")
                provider = p
                _, n, failed, skipped = suite_of[p]
                suite = ET.Element("testsuite", name=p)
                if source_file:
                    suite.set("file", source_file)
                for k, v in (("tests", n), ("failures", failed), ("errors", 0), ("skipped", skipped)):
                    suite.set(k, str(v))
                lines.append("  " + ET.tostring(suite, encoding="unicode").removesuffix(" />") + ">\n")
            if merged and key in merged:
                start, body, _ = self._case(p, service, rid, _together(entries, merged[key], key in self.twice))
            lines.append(start)
            lines.append(body)
            if len(lines) >= 500:
                out.write("".join(lines))
                lines.clear()
        out.write("".join(lines))
        if provider is not None:
            out.write("  </testsuite>\n")
        self.rows.close()
        out.write(closing)
        out.write("</testsuites>\n")

    def _merged(self) -> dict[str, list[_Entry]]:
        """The findings each case must add to its own, with the suites' counts corrected for them.

        Late findings, and every finding on an id that may repeat (one pass over the cases gathers those).
        """
        if not self.late and not self.twice:
            return {}
        merged: dict[str, list[_Entry]] = {key: list(entries) for key, entries in self.late.items()}
        affected = []
        for _, (_, _, key, p, service, rid, entries, status) in self.rows.keyed():
            if key in self.twice:
                merged.setdefault(key, []).extend(entries)
                affected.append((key, p, service, rid, entries, status))
            elif key in merged:
                affected.append((key, p, service, rid, entries, status))
        self.rows.rewind()
        for key, p, service, rid, entries, status in affected:
            after = self._case(p, service, rid, _together(entries, merged[key], key in self.twice))[2]
            counts = self.counts[p]
            if status:
                counts[status] -= 1
            if after:
                counts[after] += 1
        return merged


_Entry = tuple[bool, int, str, int, str, str, str]  # waived, -severity rank, rule, seq, title, severity, details
_PROVIDERS = {p: p.value for p in Provider}
_RANKS = {"error": -2, "warning": -1, "note": 0}  # -severity_rank
_SPECIAL = re.compile('[&<>"\x00-\x1f\ud800-\udfff\ufffe\uffff]')  # what _attr changes


def _together(own: list[_Entry], merged: list[_Entry], whole: bool) -> list[_Entry]:
    """A case's findings with those merged in (`whole`: `merged` already holds its own too)."""
    return sorted(set(merged) if whole else [*own, *merged])


def _case_body(findings: tuple[tuple[str, str, str, bool, str], ...]) -> tuple[str, int]:
    """The rest of a `<testcase>` after its name, as ElementTree (indented by ET.indent) writes it, and its state."""
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
        return '" />\n', 0
    return '">\n' + "\n".join(children) + "\n    </testcase>\n", 1 if failing else 2


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
