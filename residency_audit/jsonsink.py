"""The JSON report written as resources and findings arrive, its head (the summary) first: flat memory, few copies.

The head needs every resource counted, so the arrays wait on disk until the end. A resource line is kilobytes,
most of it parts many resources share (its assessment's reasons, its footprint; a finding's reasons and
remediation). Such a part is kept once in memory (bounded) and the spool holds a reference to it; the lines are
whole only when written out. So the spool is a tenth of the report, and the report is written once, not written
to a spool and copied. The text is what `report.iter_json` writes (tests hold the two to the same bytes).
"""

from __future__ import annotations

import json
import tempfile
from typing import IO, Any

from . import report, serialize
from .model import Finding, Resource
from .rules import RULES

# A reference is NUL, a number, NUL. JSON text holds no raw NUL (json.dumps and encode_basestring escape every
# control character as \u0000), so no item can be mistaken for one.
_NUL = b"\x00"
_SHARED_BYTES = 48 << 20  # parts held for the spool's references; past this, parts are written inline
_CACHED_CHARS = 32 << 20  # the texts found by object identity (held or not): cleared past this or _CACHED entries
_CACHED = 50_000
_SHORT = 48  # a shorter part is cheaper written than referenced
_text = json.encoder.encode_basestring


class Parts:
    """Serialised parts found again by the identity of what they were made from, referenced once shared.

    A part seen once is written inline; seen again (the same object), it is kept as UTF-8 and referenced, until
    `_SHARED_BYTES` are kept. Each entry holds its object, so its id is not reused while the entry lives.
    """

    def __init__(self) -> None:
        self.seen: dict[int, list[Any]] = {}  # id → [object, text, reference or None]
        self.chars = 0
        self.kept: dict[bytes, bytes] = {}  # reference number → the part, UTF-8
        self.kept_bytes = 0

    def get(self, obj: object, make: Any) -> str:
        """`make(obj)`'s text, or a reference to it when `obj` was seen before."""
        hit = self.seen.get(id(obj))
        if hit is None or hit[0] is not obj:
            text: str = make(obj)
            if len(self.seen) >= _CACHED or self.chars > _CACHED_CHARS:
                self.seen.clear()
                self.chars = 0
            self.seen[id(obj)] = [obj, text, None]
            self.chars += len(text)
            return text
        if hit[2] is None:
            text = hit[1]
            data = text.encode()
            if len(text) < _SHORT or self.kept_bytes + len(data) > _SHARED_BYTES:
                hit[2] = text
            else:
                number = str(len(self.kept))
                self.kept[number.encode()] = data
                self.kept_bytes += len(data)
                hit[2] = f"\x00{number}\x00"
        return hit[2]  # type: ignore[no-any-return]

    def expand(self, spool: IO[bytes], write: Any) -> None:
        """The spool from its start, every reference replaced by its part, to `write` (bytes) in large chunks."""
        kept = self.kept
        spool.seek(0)
        rest = b""
        # a spool's 128 KB expand to about a megabyte: a much larger write (into fresh memory, then the page cache)
        # costs the kernel ten times as much per byte
        while chunk := spool.read(128 << 10):
            data = rest + chunk
            cut = data.rfind(b"\n")  # every item starts a line; a reference never holds a newline
            if cut <= 0:
                rest = data
                continue
            rest = data[cut:]
            pieces = data[:cut].split(_NUL)
            pieces[1::2] = map(kept.__getitem__, pieces[1::2])
            write(b"".join(pieces))
        if rest:
            pieces = rest.split(_NUL)
            pieces[1::2] = map(kept.__getitem__, pieces[1::2])
            write(b"".join(pieces))


class Lines:
    """Resource and finding lines as `report.line(serialize.…)` writes them, shared parts as references."""

    def __init__(self, parts: Parts) -> None:
        self.parts = parts
        self.rules: dict[tuple[str, str], str] = {}
        self.bodies: dict[int, tuple[object, str, str]] = {}  # id(reasons) → (reasons, rule, text)

    def resource(self, r: Resource) -> str:
        """One resource line, its assessment last."""
        get = self.parts.get
        footprint = get(r.footprint, lambda fp: report.line([serialize.copy(c) for c in fp]) + ', "countries": '
                        + report.line(list(r.countries)))  # fmt: skip
        a = r.assessment
        assessment = get(a, lambda a: report.line(serialize.assessment(a))) if a is not None else "null"
        tags = get(r.tags, lambda tags: report.line(dict(sorted(tags.items())))) if r.tags else "{}"
        return (
            f'{{"provider": {_text(str(r.provider))}, "account": {_text(r.account)}, "service": {_text(r.service)}, '
            f'"type": {_text(r.type)}, "id": {_text(r.id)}, "name": {_text(r.name)}, "footprint": {footprint}, '
            f'"key_control": {_text(str(r.key_control))}, "key_note": {_opt(r.key_note)}, '
            f'"classification": {_opt(r.classification)}, "tags": {tags}, "assessment": {assessment}}}'
        )

    def finding(self, f: Finding) -> str:
        """One finding line."""
        if f.waiver is not None:
            return report.line(serialize.finding(f))
        head = self.rules.get((f.rule, f.severity))
        if head is None:
            data = serialize.finding(f)
            head = report.line({k: data[k] for k in ("rule", "rule_name", "title", "severity")})[:-1]
            self.rules[(f.rule, f.severity)] = head
        # the body is the reasons and the rule's remediation: found by the reasons' identity and the rule
        # (an empty tuple is one object, shared by every rule's findings without reasons)
        hit = self.bodies.get(id(f.reasons))
        if hit is None or hit[0] is not f.reasons or hit[1] != f.rule:
            if len(self.bodies) >= _CACHED:
                self.bodies.clear()
            text = report.line({"reasons": list(f.reasons), "remediation": RULES[f.rule].remediation})[1:-1]
            hit = self.bodies[id(f.reasons)] = (f.reasons, f.rule, text)
        get = self.parts.get
        body = get(hit, lambda h: h[2])
        message = get(f.message, _text)
        return (
            f'{get(head, str)}, "provider": {_text(str(f.provider))}, "account": {_text(f.account)}, '
            f'"service": {_text(f.service)}, "resource": {_text(f.resource_id)}, "name": {_text(f.resource_name)}, '
            f'"message": {message}, {body}, "waived": false, "waiver": null, "fingerprint": {_text(f.fingerprint)}}}'
        )


def _opt(value: str | None) -> str:
    return "null" if value is None else _text(value)


class JsonSink:
    """The JSON report of a render.Run: arrays spooled (shared parts by reference), then the head and the arrays."""

    def __init__(self, run: Any) -> None:
        self.run = run
        # closed by close(), which every caller reaches (the CLI in a finally)
        self.resources = tempfile.TemporaryFile("w+b", buffering=1 << 20)  # noqa: SIM115
        self.findings = tempfile.TemporaryFile("w+b", buffering=1 << 20)  # noqa: SIM115
        self.parts = Parts()
        self.lines = Lines(self.parts)
        self.n_resources = self.n_findings = 0

    def add(self, r: Resource, findings: list[Finding]) -> None:
        """One resource and its findings."""
        self.resources.write((("," if self.n_resources else "") + "\n    " + self.lines.resource(r)).encode())
        self.n_resources += 1
        if findings:
            self.extra(findings)

    def extra(self, findings: list[Finding]) -> None:
        """Findings."""
        finding, n = self.lines.finding, self.n_findings
        text = "".join(("," if n + i else "") + "\n    " + finding(f) for i, f in enumerate(findings))
        self.findings.write(text.encode())
        self.n_findings += len(findings)

    def write(self, out: IO[str]) -> None:
        """The whole report to `out`: the head, then each array expanded from its spool."""
        run = self.run
        buffer = getattr(out, "buffer", None)
        if buffer is not None:
            out.flush()
        for key, spool, n in (("resources", self.resources, self.n_resources), ("findings", self.findings,
                                                                                self.n_findings)):  # fmt: skip
            text = (report.head_text(run.head()) if key == "resources" else "") + f"\n  {json.dumps(key)}: ["
            if buffer is not None:
                buffer.write(text.encode())
                self.parts.expand(spool, buffer.write)
                buffer.write(b"\n  ]," if n else b"],")
            else:  # a text stream alone (a StringIO)
                out.write(text)
                self.parts.expand(spool, lambda data: out.write(data.decode()))
                out.write("\n  ]," if n else "],")
        if buffer is not None:
            buffer.flush()
        skips = (report.line(serialize.skip(s)) for s in run.skipped)
        out.write("".join(report.array("skipped", skips)) + ",")
        out.write("".join(report.array("not_evaluated", (report.line(n) for n in run.meta.not_evaluated))))
        out.write("\n}\n")

    def close(self) -> None:
        """Remove the spools."""
        self.resources.close()
        self.findings.close()
