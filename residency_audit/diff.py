"""What changed between two saved reports: resources, footprints, exposure levels, findings and skips.

Resources match by (provider, account, id), findings by fingerprint, skips by (provider, scope); every list in
the result is sorted, so the diff is stable. `Drift` compares two reports streamed one item at a time: each
side goes into a temporary SQLite table (the last of a repeated key wins, as in a dict), the comparison is a
join, and the result is written as it is read back, so memory stays flat at any size. `diff` is the same over
two report dicts in memory.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any

from .reporters import Spool, level_rank, resource_key, resource_level
from .safe import visible

Key = tuple[str, str, str]


class Drift:
    """The changes between two reports, fed item by item (`old_resource`, `new_finding`, …), then `finish`."""

    def __init__(self) -> None:
        cols = "p, a, id, service, name, listed, copies, countries, level, PRIMARY KEY (p, a, id)"
        fcols = "fp PRIMARY KEY, rule, provider, resource, status, title, severity, waived, account, name, message"
        self.spool = Spool(f"o({cols})", f"n({cols})", f"fo({fcols})", f"fn({fcols})", "fpc(seq, data)",
                           "lvc(seq, data, up)")  # fmt: skip
        for table in ("o", "n", "fo", "fn"):
            self.spool.sql[table] = self.spool.sql[table].replace("INSERT", "INSERT OR REPLACE")
        self.counts = {"o": 0, "n": 0}
        self.parts: dict[int, tuple[object, str]] = {}  # footprints and country lists a reader shares
        self.heads: dict[str, dict[str, Any]] = {}
        self.result: dict[str, Any] = {}

    def resource(self, side: str, r: dict[str, Any]) -> None:
        """One resource of the old (`o`) or new (`n`) report."""
        self.counts[side] += 1
        countries = r.get("countries", [])
        listed = self._text(countries, lambda c: json.dumps(list(c)))
        places = self._text(countries, lambda c: json.dumps(sorted(set(c))), 1)
        copies = self._text(r.get("footprint", []), lambda fp: json.dumps(sorted(_copies({"footprint": fp}))))
        self.spool.add(side, (*resource_key(r), r.get("service"), r.get("name"), listed, copies, places,
                              resource_level(r)))  # fmt: skip

    def _text(self, obj: Any, make: Any, kind: int = 0) -> str:
        """`make(obj)`, once per object a reader shares (found by identity; the entry holds it)."""
        key = id(obj) * 2 + kind
        hit = self.parts.get(key)
        if hit is None or hit[0] is not obj:
            if len(self.parts) > 50_000:
                self.parts.clear()
            hit = self.parts[key] = (obj, make(obj))
        return hit[1]

    def finding(self, side: str, f: dict[str, Any]) -> None:
        """One finding of the old (`o`) or new (`n`) report."""
        row = (str(f.get("fingerprint")), str(f.get("rule", "")), str(f.get("provider", "")),
               str(f.get("resource", "")), _status(f), f.get("title"), f.get("severity"), f.get("waived"),
               f.get("account"), f.get("name"), f.get("message"))  # fmt: skip
        self.spool.add("f" + side, row)

    def read_reports(self, old: str, new: str) -> None:
        """Feed the two saved reports `old` and `new` (paths, or `-` for stdin) in, one item at a time, then finish.

        Raises ReportError for a report that cannot be read.
        """
        from functools import partial

        from .reportfile import opened, read

        heads = []
        for side, arg in (("o", old), ("n", new)):
            with opened(arg) as (path, shown):
                heads.append(read(path, shown, partial(self.resource, side), partial(self.finding, side)))
        self.finish(*heads)

    def finish(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        """The heads of both reports (their `skipped` included), once every item is in; then compare."""
        self.heads = {"o": old, "n": new}
        q = self.spool.query
        pairs = q(f"SELECT {_BRIEF.format('n')}, o.copies, n.copies, o.countries, n.countries, o.level "
                  "FROM o JOIN n USING (p, a, id) ORDER BY p, a, id")  # fmt: skip
        fp = lv = 0
        for *brief_row, oc, nc, ocn, ncn, ol in pairs:
            nl = brief_row[5]
            if oc != nc or ocn != ncn:
                self.spool.add("fpc", (fp, _footprint_change(_brief_of(brief_row), oc, nc, ocn, ncn)))
                fp += 1
            if ol != nl:
                up = level_rank(nl) > level_rank(ol)  # unassessed ranks below every level: a first assessment is up
                change = _brief_of(brief_row) | {"from": ol, "to": nl, "direction": "up" if up else "down"}
                self.spool.add("lvc", (lv, json.dumps(change), up))
                lv += 1
        skips = _skip_changes(old.get("skipped", []), new.get("skipped", []))
        only = (
            "SELECT count(*) FROM {0} WHERE NOT EXISTS "
            "(SELECT 1 FROM {1} WHERE {1}.p = {0}.p AND {1}.a = {0}.a AND {1}.id = {0}.id)"
        )
        self.result = {
            "added": self._count(only.format("n", "o")),
            "removed": self._count(only.format("o", "n")),
            "footprint": fp,
            "levels": lv,
            "up": self._count("SELECT count(*) FROM lvc WHERE up"),
            "new": self._count("SELECT count(*) FROM fn WHERE fp NOT IN (SELECT fp FROM fo)"),
            "resolved": self._count("SELECT count(*) FROM fo WHERE fp NOT IN (SELECT fp FROM fn)"),
            "changed": self._count("SELECT count(*) FROM fo JOIN fn USING (fp) WHERE fo.status != fn.status"),
            "skips": skips,
        }

    def _count(self, sql: str) -> int:
        return int(self.spool.query(sql).fetchone()[0])

    def changed(self) -> bool:
        """Whether anything changed."""
        r = self.result
        return bool(any(r[k] for k in ("added", "removed", "footprint", "levels", "new", "resolved", "changed"))
                    or r["skips"]["new"] or r["skips"]["resolved"])  # fmt: skip

    def origin(self, side: str) -> dict[str, Any]:
        """Where one side came from."""
        return _origin(self.heads[side]) | {"resources": self.counts[side]}

    def added(self) -> Iterator[dict[str, Any]]:
        """Resources only in the new report, by key."""
        return self._briefs("n", "o")

    def removed(self) -> Iterator[dict[str, Any]]:
        """Resources only in the old report, by key."""
        return self._briefs("o", "n")

    def _briefs(self, a: str, b: str) -> Iterator[dict[str, Any]]:
        rows = self.spool.query(f"SELECT {_BRIEF.format(a)} FROM {a} WHERE NOT EXISTS (SELECT 1 FROM {b} WHERE "
                                f"{a}.p = {b}.p AND {a}.a = {b}.a AND {a}.id = {b}.id) ORDER BY p, a, id")  # fmt: skip
        return (_brief_of(row) for row in rows)

    def footprint(self) -> Iterator[dict[str, Any]]:
        """Footprint changes, by key."""
        return (json.loads(d) for (d,) in self.spool.query("SELECT data FROM fpc ORDER BY seq"))

    def levels(self) -> Iterator[dict[str, Any]]:
        """Exposure level changes, by key."""
        return (json.loads(d) for (d,) in self.spool.query("SELECT data FROM lvc ORDER BY seq"))

    def new_findings(self) -> Iterator[dict[str, Any]]:
        """Findings only in the new report."""
        return self._findings("fn", "fo")

    def resolved_findings(self) -> Iterator[dict[str, Any]]:
        """Findings only in the old report."""
        return self._findings("fo", "fn")

    def _findings(self, a: str, b: str) -> Iterator[dict[str, Any]]:
        rows = self.spool.query(f"SELECT {_FINDING} FROM {a} WHERE fp NOT IN (SELECT fp FROM {b}) "
                                "ORDER BY rule, provider, resource, fp")  # fmt: skip
        return (_finding_of(row) for row in rows)

    def changed_findings(self) -> Iterator[dict[str, Any]]:
        """Findings in both whose standing changed, by fingerprint."""
        rows = self.spool.query("SELECT fp, fn.rule, fn.resource, fn.name, fn.provider, fo.status, fn.status "
                                "FROM fo JOIN fn USING (fp) WHERE fo.status != fn.status ORDER BY fp")  # fmt: skip
        for fp, rule, resource, name, provider, before, after in rows:
            yield {"fingerprint": fp, "rule": rule, "resource": resource, "name": name, "provider": provider,
                   "from": before, "to": after}  # fmt: skip

    def write_json(self, out: IO[str]) -> None:
        """The changes as `json.dumps(diff(...), indent=2)` would print them, written as they are read."""
        r = self.result
        out.write('{\n  "old": ' + _indent(self.origin("o"), 2) + ',\n  "new": ' + _indent(self.origin("n"), 2))
        out.write(',\n  "resources": {\n    "added": ')
        _list(out, self.added(), 4)
        out.write(',\n    "removed": ')
        _list(out, self.removed(), 4)
        out.write('\n  },\n  "footprint": ')
        _list(out, self.footprint(), 2)
        out.write(',\n  "levels": ')
        _list(out, self.levels(), 2)
        out.write(',\n  "findings": {\n    "new": ')
        _list(out, self.new_findings(), 4)
        out.write(',\n    "resolved": ')
        _list(out, self.resolved_findings(), 4)
        out.write(',\n    "changed": ')
        _list(out, self.changed_findings(), 4)
        out.write('\n  },\n  "skipped": ' + _indent(r["skips"], 2))
        out.write(',\n  "changed": ' + json.dumps(self.changed()) + "\n}\n")

    def write_text(self, out: IO[str]) -> None:
        """The changes as plain text (Markdown-compatible: headings and `+`/`-` lists), written as read."""
        r = self.result
        out.write(_title(self.origin("o"), self.origin("n")) + "\n")
        out.write(
            f"{r['added']} new, {r['removed']} removed data store(s); {r['footprint']} footprint change(s); "
            f"{r['levels']} level change(s) ({r['up']} up, {r['levels'] - r['up']} down); {r['new']} new, "
            f"{r['resolved']} resolved finding(s); {len(r['skips']['new'])} new skip(s)\n"
        )
        if not self.changed():
            out.write("\nno changes\n")
            return
        sections: list[tuple[str, int, Iterator[str]]] = [
            ("New data stores", r["added"], (_added_line(x) for x in self.added())),
            ("Removed data stores", r["removed"], (f"- {_who(x)}" for x in self.removed())),
            ("Footprint changes", r["footprint"], (_footprint_line(c) for c in self.footprint())),
            ("Exposure level changes", r["levels"], (_level_line(c) for c in self.levels())),
            ("New findings", r["new"], (_finding_line("+", f) for f in self.new_findings())),
            ("Resolved findings", r["resolved"], (_finding_line("-", f) for f in self.resolved_findings())),
            ("Findings that changed standing", r["changed"], (_changed_line(c) for c in self.changed_findings())),
            ("New skips", len(r["skips"]["new"]), (_skip_line("+", s) for s in r["skips"]["new"])),
            ("Skips resolved", len(r["skips"]["resolved"]), (_skip_line("-", s) for s in r["skips"]["resolved"])),
        ]
        for heading, n, lines in sections:
            if n:
                out.write(f"\n## {heading} ({n})\n")
                for line in lines:
                    out.write(line + "\n")

    def close(self) -> None:
        """Remove the temporary tables."""
        self.spool.close()


def diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The changes from `old` to `new` (report dicts), as a JSON-ready dict (see render_diff for the text form)."""
    drift = Drift()
    try:
        for side, report in (("o", old), ("n", new)):
            for r in report.get("resources", []):
                drift.resource(side, r)
            for f in report.get("findings", []):
                drift.finding(side, f)
        drift.finish(old, new)
        import io

        buffer = io.StringIO()
        drift.write_json(buffer)
        result: dict[str, Any] = json.loads(buffer.getvalue())
        return result
    finally:
        drift.close()


_BRIEF = "{0}.p, {0}.a, {0}.service, {0}.id, {0}.name, {0}.level, {0}.listed"
_FINDING = "rule, title, severity, waived, provider, account, resource, name, message, fp"


def _brief_of(row: Any) -> dict[str, Any]:
    """The fields that name a resource and say how exposed it is, from its stored columns."""
    p, a, service, rid, name, level, listed = row
    return {"provider": p, "account": a, "service": service, "id": rid, "name": name, "level": level,
            "countries": json.loads(listed)}  # fmt: skip


def _finding_of(row: Any) -> dict[str, Any]:
    """The fields that name a finding and its standing, from its stored columns."""
    rule, title, severity, waived, provider, account, resource, name, message, fp = row
    return {"rule": rule, "title": title, "severity": severity, "waived": None if waived is None else bool(waived),
            "provider": provider, "account": account, "resource": resource, "name": name, "message": message,
            "fingerprint": fp}  # fmt: skip


def _indent(value: Any, depth: int) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n" + " " * depth)


def _list(out: IO[str], items: Iterator[dict[str, Any]], depth: int) -> None:
    """A list as json.dumps(indent=2) writes it at `depth`, item by item."""
    first = True
    pad = "\n" + " " * (depth + 2)
    for item in items:
        out.write(("[" if first else ",") + pad + _indent(item, depth + 2))
        first = False
    out.write("[]" if first else "\n" + " " * depth + "]")


def _origin(report: dict[str, Any]) -> dict[str, Any]:
    source = report.get("source") or {}
    return {
        "finished_at": report.get("finished_at"),
        "kind": source.get("kind"),
        "path": source.get("path"),
        "verdict": (report.get("summary") or {}).get("verdict"),
        "resources": len(report.get("resources", [])),
    }


def _copies(r: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (str(c.get("location") or c.get("reported_as") or ""), str(c.get("role", ""))) for c in r.get("footprint", [])
    }


def _status(f: dict[str, Any]) -> str:
    """A finding's standing: its severity, or `waived`."""
    return "waived" if f.get("waived") else str(f.get("severity", ""))


def _footprint_change(brief: dict[str, Any], oc: str, nc: str, ocn: str, ncn: str) -> str:
    before = {tuple(x) for x in json.loads(oc)}
    after = {tuple(x) for x in json.loads(nc)}
    old_c, new_c = set(json.loads(ocn)), set(json.loads(ncn))
    return json.dumps(brief | {
        "countries_added": sorted(new_c - old_c),
        "countries_removed": sorted(old_c - new_c),
        "locations_added": [{"location": loc, "role": role} for loc, role in sorted(after - before)],
        "locations_removed": [{"location": loc, "role": role} for loc, role in sorted(before - after)],
    })  # fmt: skip


def _skip_changes(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    def key(s: dict[str, Any]) -> tuple[str, str]:
        return (str(s.get("provider", "")), str(s.get("scope", "")))

    before, after = {key(s): s for s in old}, {key(s): s for s in new}
    return {
        "new": [after[k] for k in sorted(after.keys() - before.keys())],
        "resolved": [before[k] for k in sorted(before.keys() - after.keys())],
    }


def render_diff(d: dict[str, Any]) -> str:
    """A diff dict (from `diff`) as plain text: what `Drift.write_text` writes."""
    lines = [_title(d["old"], d["new"]), _counts(d)]
    if not d.get("changed"):
        return "\n".join([*lines, "", "no changes"]) + "\n"
    sections: list[tuple[str, list[str]]] = [
        ("New data stores", [_added_line(r) for r in d["resources"]["added"]]),
        ("Removed data stores", [f"- {_who(r)}" for r in d["resources"]["removed"]]),
        ("Footprint changes", [_footprint_line(c) for c in d["footprint"]]),
        ("Exposure level changes", [_level_line(c) for c in d["levels"]]),
        ("New findings", [_finding_line("+", f) for f in d["findings"]["new"]]),
        ("Resolved findings", [_finding_line("-", f) for f in d["findings"]["resolved"]]),
        ("Findings that changed standing", [_changed_line(c) for c in d["findings"]["changed"]]),
        ("New skips", [_skip_line("+", s) for s in d["skipped"]["new"]]),
        ("Skips resolved", [_skip_line("-", s) for s in d["skipped"]["resolved"]]),
    ]
    for heading, items in sections:
        if items:
            lines += ["", f"## {heading} ({len(items)})", *items]
    return "\n".join(lines) + "\n"


def _added_line(r: dict[str, Any]) -> str:
    return f"+ {_who(r)} — {r['level'] or '-'} — {_countries(r)}"


def _changed_line(c: dict[str, Any]) -> str:
    return visible(f"~ {c['rule']} {c['provider']}:{c['name'] or c['resource']}: {c['from']} → {c['to']}")


def _skip_line(sign: str, s: dict[str, Any]) -> str:
    text = f"{sign} {s.get('provider')} {s.get('scope')}" + (f": {s.get('reason')}" if sign == "+" else "")
    return visible(text)


def _title(old: dict[str, Any], new: dict[str, Any]) -> str:
    def side(o: dict[str, Any]) -> str:
        return f"{o.get('path') or o.get('kind') or 'report'} ({o.get('finished_at') or '?'})"

    return visible(f"# residency-audit diff: {side(old)} → {side(new)}")


def _counts(d: dict[str, Any]) -> str:
    up = sum(1 for c in d["levels"] if c["direction"] == "up")
    return (
        f"{len(d['resources']['added'])} new, {len(d['resources']['removed'])} removed data store(s); "
        f"{len(d['footprint'])} footprint change(s); {len(d['levels'])} level change(s) ({up} up, "
        f"{len(d['levels']) - up} down); {len(d['findings']['new'])} new, {len(d['findings']['resolved'])} "
        f"resolved finding(s); {len(d['skipped']['new'])} new skip(s)"
    )


def _who(r: dict[str, Any]) -> str:
    return visible(f"{r.get('provider')}:{r.get('name') or r.get('id')} ({r.get('id')})")


def _countries(r: dict[str, Any]) -> str:
    return visible(" ".join(r.get("countries") or []) or "unknown")


def _footprint_line(c: dict[str, Any]) -> str:
    def loc(x: dict[str, str]) -> str:
        return visible(x["location"]) + (" (replica)" if x["role"] == "replica" else "")

    parts = [f"+{loc(x)}" for x in c["locations_added"]] + [f"-{loc(x)}" for x in c["locations_removed"]]
    parts += [f"+{x}" for x in c["countries_added"]] + [f"-{x}" for x in c["countries_removed"]]
    return f"~ {_who(c)}: {' '.join(parts)} → now {_countries(c)}"


def _level_line(c: dict[str, Any]) -> str:
    arrow = "↑" if c["direction"] == "up" else "↓"
    return f"{arrow} {_who(c)}: {c['from'] or '-'} → {c['to'] or '-'}"


def _finding_line(sign: str, f: dict[str, Any]) -> str:
    standing = "waived" if f.get("waived") else f.get("severity")
    who = f"{f.get('provider')}:{f.get('name') or f.get('resource')}"
    return visible(f"{sign} {f.get('rule')} {standing} {who} — {f.get('message')}")
