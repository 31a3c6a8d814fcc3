"""One entry to every output format, fed one resource at a time: memory stays flat at any number of resources.

A `Run` takes each assessed resource with its findings (`add`), then writes the format once everything is in
(`write`): the JSON report spools its arrays to temporary files and writes its head (the summary) first; CSV and
JUnit sort on disk; the table, Markdown and SARIF keep only what they show (the most severe, the first that fit).
"""

from __future__ import annotations

import importlib
from collections import Counter
from collections.abc import Iterable
from typing import IO, Any

from . import report, serialize
from .formats import OutputFormat
from .model import Finding, Provider, Resource, Skip, Viewpoint
from .pipeline import ScanResult
from .profiles import Profile
from .reporters import Top
from .rules import RULES, Severity
from .safe import relative, visible

# formats rendered from report dicts by a module of residency_audit.reporters
_REPORTERS = {"sarif": "sarif", "csv": "csv_report", "markdown": "markdown", "junit": "junit", "html": "html"}


class Tally:
    """What every summary needs, counted as resources pass: levels, countries, findings, totals."""

    def __init__(self) -> None:
        self.resources = 0
        self.findings: dict[str, int] = {str(s): 0 for s in Severity} | {"waived": 0}
        self.n_findings = 0
        self._levels: Counter[str] = Counter()
        self._countries: Counter[str] = Counter()
        self._types: Counter[tuple[Provider, str]] = Counter()  # (provider, type): what coverage counts
        # resources share footprints and assessments: counted per (provider, type, assessment, footprint), the
        # levels and countries of each group added once (folded in when read, or when there are many groups)
        self._groups: dict[tuple[object, ...], list[Any]] = {}

    def add(self, r: Resource, findings: Iterable[Finding]) -> None:
        """Count one resource and its findings."""
        self.resources += 1
        key = (r.provider, r.type, id(r.assessment), id(r.footprint))
        group = self._groups.get(key)
        # each group holds its assessment and footprint, so their ids are not reused while it lives
        if group is None or group[1] is not r.assessment or group[2] is not r.footprint:
            if len(self._groups) >= 10_000:
                self._fold()
            group = self._groups[key] = [(r.provider, r.type), r.assessment, r.footprint, r.countries, 0]
        group[4] += 1
        if findings:
            self.finding(findings)

    def _fold(self) -> None:
        for kind, assessment, _, countries, n in self._groups.values():
            self._types[kind] += n
            if assessment is not None:
                self._levels[str(assessment.level)] += n
            for country in countries:
                self._countries[country] += n
        self._groups.clear()

    @property
    def levels(self) -> Counter[str]:
        """Resources per exposure level."""
        self._fold()
        return self._levels

    @property
    def countries(self) -> Counter[str]:
        """Resources with a copy in each country."""
        self._fold()
        return self._countries

    @property
    def types(self) -> Counter[tuple[Provider, str]]:
        """Resources per (provider, type), in the order they were first seen."""
        self._fold()
        return self._types

    def finding(self, findings: Iterable[Finding]) -> None:
        """Count findings."""
        counts = self.findings
        for f in findings:
            self.n_findings += 1
            counts["waived" if f.waiver is not None and not f.expired_waiver else f.severity] += 1


class Run:
    """One report being made in one format: `add` every resource, `finish` with the skips, then `write`."""

    def __init__(
        self,
        fmt: OutputFormat,
        view: Viewpoint,
        meta: report.Meta,
        profile: Profile | None,
        *,
        plain: bool,
        width: int | None = None,
    ) -> None:
        self.fmt, self.view, self.meta, self.profile = fmt, view, meta, profile
        self.plain, self.width = plain, width
        self.tally = Tally()
        self.skipped: tuple[Skip, ...] = ()
        self.verdict: str | None = None
        self.sink: Any = _sink(fmt, self)

    def add(self, r: Resource, findings: list[Finding]) -> None:
        """One assessed resource and the findings on it."""
        self.tally.add(r, findings)
        self.sink.add(r, findings)

    def extra(self, findings: list[Finding]) -> None:
        """Findings raised after every resource (expired waivers)."""
        self.tally.finding(findings)
        self.sink.extra(findings)

    def finish(self, skipped: Iterable[Skip], verdict: str | None) -> None:
        """The skips and the gate's verdict, once every resource is in."""
        from .logs import redact_reason

        # the report boundary: no skip reason carries a response body or a credential, whoever made it
        self.skipped = tuple(Skip(s.provider, s.scope, redact_reason(s.reason)) for s in skipped)
        self.verdict = verdict

    def head(self) -> dict[str, Any]:
        """The report's head: everything but its arrays."""
        return report.head(self.view, self.meta, self.profile, self.verdict, self.tally, len(self.skipped))

    def write(self, out: IO[str]) -> None:
        """The whole report in the format, to `out`."""
        self.sink.write(out)

    def close(self) -> None:
        """Remove whatever the format spooled to disk."""
        close = getattr(self.sink, "close", None)
        if close is not None:
            close()


def render_result(
    fmt: OutputFormat,
    result: ScanResult,
    view: Viewpoint,
    meta: report.Meta,
    gate: report.Gate | None,
    *,
    plain: bool,
    width: int | None = None,
) -> Run:
    """A Run fed from a result already in memory (scan, plan): the same code path as a streamed check."""
    run = Run(fmt, view, meta, gate.profile if gate else None, plain=plain, width=width)
    for r in result.resources:
        run.add(r, [])
    run.extra(list(gate.findings) if gate else [])
    run.finish(result.skipped, gate.verdict if gate else None)
    return run


def source_file(meta: report.Meta, profile: Profile | None) -> str | None:
    """The file a SARIF result points at: the plan for `plan`, else the profile (a bundled one by its repo path)."""
    if meta.kind == "plan":
        return meta.path
    if profile is None:
        return None
    src = relative(profile.source)
    return f"profiles/{src.split(':', 1)[1]}.toml" if src.startswith("bundled:") else src


def _sink(fmt: OutputFormat, run: Run) -> Any:
    if fmt is OutputFormat.json:
        from .jsonsink import JsonSink

        return JsonSink(run)
    if fmt is OutputFormat.table:
        return _Table(run)
    if fmt is OutputFormat.html:
        from .reporters import html

        # rows spool as they arrive; the page (map and totals first) is written at the end
        return _Dicts(run, html.Writer(run.view.home, run.view.trusted))
    return _Dicts(run, importlib.import_module(f"residency_audit.reporters.{_REPORTERS[fmt.value]}").Writer())


class _Table:
    """The terminal table: the summary counts, the ROW_LIMIT most exposed resources and most severe findings."""

    def __init__(self, run: Run) -> None:
        from .tables import ROW_LIMIT

        self.run = run
        self.worst, self.first = Top(ROW_LIMIT), Top(ROW_LIMIT)
        self.ranks = {str(s): s.rank for s in Severity}

    def add(self, r: Resource, findings: list[Finding]) -> None:
        # heapq.nsmallest's order, kept as the resources pass: the key, then arrival (a max-heap of the kept)
        self.worst.add((-(r.assessment.level.rank if r.assessment else 99), r.provider, r.id), r)
        self.extra(findings)

    def extra(self, findings: list[Finding]) -> None:
        for f in findings:
            self.first.add((f.waived, -self.ranks[f.severity], f.rule, f.provider, f.resource_id), f)

    def write(self, out: IO[str]) -> None:
        from .tables import TableData, render_text, view_of

        run = self.run
        data = TableData(
            levels=run.tally.levels, countries=run.tally.countries, total=run.tally.resources,
            worst=self.worst.items(), skipped=run.skipped, findings_total=run.tally.n_findings,
            first_findings=self.first.items(), counts=run.tally.findings,
        )  # fmt: skip
        gate = (run.profile, run.verdict) if run.profile is not None and run.verdict is not None else None
        view = view_of(data, run.view.label, gate, run.meta.coverage)
        out.write(render_text(view, plain=run.plain, width=run.width))
        out.write("".join(f"warning: {visible(x)}\n" for x in run.meta.reverify))


class _Dicts:
    """A format of residency_audit.reporters, fed the report-format dicts its `Writer` takes.

    Shared parts (footprints, assessments) are serialised once; a writer that names the finding fields it reads
    (`finding_fields`) gets an unwaived finding without the costly fields it does not read.
    """

    def __init__(self, run: Run, writer: Any) -> None:
        self.run, self.writer = run, writer
        if getattr(writer, "model", False):  # the writer takes the model's resources and findings itself
            self.add, self.extra = writer.add, writer.extra  # type: ignore[method-assign]
        self.parts: dict[int, tuple[object, Any]] = {}
        self.fields: tuple[str, ...] | None = getattr(writer, "finding_fields", None)
        self.light = bool(getattr(writer, "light_resources", False))

    def _shared(self, obj: object, make: Any) -> Any:
        hit = self.parts.get(id(obj))
        if hit is None or hit[0] is not obj:
            if len(self.parts) > 50_000:
                self.parts.clear()
            hit = self.parts[id(obj)] = (obj, make(obj))
        return hit[1]

    def add(self, r: Resource, findings: list[Finding]) -> None:
        assessment = self._shared(r.assessment, lambda a: serialize.assessment(a) if a else None)
        if self.light:  # the writer reads only a resource's identity, places and assessment
            countries = self._shared(r.footprint, lambda fp: list(r.countries))
            data = {"provider": str(r.provider), "account": r.account, "service": r.service, "id": r.id,
                    "countries": countries, "assessment": assessment}  # fmt: skip
        else:
            copies, countries = self._shared(
                r.footprint, lambda fp: ([serialize.copy(c) for c in fp], list(r.countries))
            )
            data = {
                "provider": str(r.provider), "account": r.account, "service": r.service, "type": r.type, "id": r.id,
                "name": r.name, "footprint": copies, "countries": countries, "key_control": str(r.key_control),
                "key_note": r.key_note, "classification": r.classification,
                "tags": self._shared(r.tags, lambda tags: dict(sorted(tags.items()))) if r.tags else {},
                "assessment": assessment,
            }  # fmt: skip
        self.writer.resource(data)
        self.extra(findings)

    def extra(self, findings: list[Finding]) -> None:
        fields = self.fields
        lazy = getattr(self.writer, "lazy_findings", False)
        for f in findings:
            if lazy:
                self.writer.finding(_Lazy(f))
            elif fields is None or f.waiver is not None:
                self.writer.finding(serialize.finding(f))
            else:
                self.writer.finding(_unwaived(f, "fingerprint" in fields))

    def write(self, out: IO[str]) -> None:
        run = self.run
        head = run.head() | {"skipped": [serialize.skip(s) for s in run.skipped]}
        run_source = source_file(run.meta, run.profile)
        self.writer.write(out, head, run_source) if _takes_source(self.writer) else self.writer.write(out, head)

    def close(self) -> None:
        close = getattr(self.writer, "close", None)
        if close is not None:
            close()


def _unwaived(f: Finding, fingerprint: bool) -> dict[str, Any]:
    """An unwaived finding's fields as serialize.finding names them, in one dict display (no call per field).

    The fingerprint (a hash) only when the writer reads it; the remediation, never (no such writer reads it).
    """
    data = {
        "rule": f.rule, "severity": f.severity, "provider": str(f.provider), "account": f.account,
        "service": f.service, "resource": f.resource_id, "name": f.resource_name, "message": f.message,
        "reasons": list(f.reasons), "title": RULES[f.rule].title, "waived": False, "waiver": None,
    }  # fmt: skip
    if fingerprint:
        data["fingerprint"] = f.fingerprint
    return data


class _Lazy(dict):  # type: ignore[type-arg]
    """A finding's ordering fields now, the whole serialised finding (`full()`) only when a format keeps it."""

    __slots__ = ("finding",)

    def __init__(self, f: Finding) -> None:
        super().__init__(waived=f.waived, severity=f.severity, rule=f.rule, provider=str(f.provider),
                         account=f.account, resource=f.resource_id)  # fmt: skip
        self.finding = f

    def full(self) -> dict[str, Any]:
        """The finding as serialize.finding makes it."""
        return serialize.finding(self.finding)


def _takes_source(writer: Any) -> bool:
    import inspect

    return "source_file" in inspect.signature(writer.write).parameters
