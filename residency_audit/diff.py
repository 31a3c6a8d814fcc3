"""What changed between two saved reports: resources, footprints, exposure levels, findings and skips.

Pure functions over report dicts (docs/report-format.md). Resources match by (provider, account, id), findings by
fingerprint, skips by (provider, scope). Every list in the result is sorted, so the diff is stable.
"""

from __future__ import annotations

from typing import Any

from .reporters import level_rank, resource_key, resource_level

Key = tuple[str, str, str]


def diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The changes from `old` to `new`, as a JSON-ready dict (see render_diff for the text form)."""
    old_res = {resource_key(r): r for r in old.get("resources", [])}
    new_res = {resource_key(r): r for r in new.get("resources", [])}
    common = sorted(old_res.keys() & new_res.keys())
    footprint = [c for k in common if (c := _footprint_change(old_res[k], new_res[k]))]
    levels = [c for k in common if (c := _level_change(old_res[k], new_res[k]))]
    findings = _finding_changes(old.get("findings", []), new.get("findings", []))
    skips = _skip_changes(old.get("skipped", []), new.get("skipped", []))
    result: dict[str, Any] = {
        "old": _origin(old),
        "new": _origin(new),
        "resources": {
            "added": [_brief(new_res[k]) for k in sorted(new_res.keys() - old_res.keys())],
            "removed": [_brief(old_res[k]) for k in sorted(old_res.keys() - new_res.keys())],
        },
        "footprint": footprint,
        "levels": levels,
        "findings": findings,
        "skipped": skips,
    }
    result["changed"] = any(
        (
            result["resources"]["added"],
            result["resources"]["removed"],
            footprint,
            levels,
            *findings.values(),
            *skips.values(),
        )
    )
    return result


def _origin(report: dict[str, Any]) -> dict[str, Any]:
    source = report.get("source") or {}
    return {
        "finished_at": report.get("finished_at"),
        "kind": source.get("kind"),
        "path": source.get("path"),
        "verdict": (report.get("summary") or {}).get("verdict"),
        "resources": len(report.get("resources", [])),
    }


def _brief(r: dict[str, Any]) -> dict[str, Any]:
    """The fields that name a resource and say how exposed it is."""
    return {
        "provider": r.get("provider"),
        "account": r.get("account"),
        "service": r.get("service"),
        "id": r.get("id"),
        "name": r.get("name"),
        "level": resource_level(r),
        "countries": list(r.get("countries", [])),
    }


def _copies(r: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (str(c.get("location") or c.get("reported_as") or ""), str(c.get("role", ""))) for c in r.get("footprint", [])
    }


def _footprint_change(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any] | None:
    before, after = _copies(old), _copies(new)
    old_c, new_c = set(old.get("countries", [])), set(new.get("countries", []))
    if before == after and old_c == new_c:
        return None
    return _brief(new) | {
        "countries_added": sorted(new_c - old_c),
        "countries_removed": sorted(old_c - new_c),
        "locations_added": [{"location": loc, "role": role} for loc, role in sorted(after - before)],
        "locations_removed": [{"location": loc, "role": role} for loc, role in sorted(before - after)],
    }


def _level_change(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any] | None:
    before, after = resource_level(old), resource_level(new)
    if before == after:
        return None
    # unassessed (None) ranks below every level, so a first assessment reads as "up"
    direction = "up" if level_rank(after) > level_rank(before) else "down"
    return _brief(new) | {"from": before, "to": after, "direction": direction}


def _finding_changes(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    before = {str(f.get("fingerprint")): f for f in old}
    after = {str(f.get("fingerprint")): f for f in new}
    changed = [
        {
            "fingerprint": fp,
            "rule": after[fp].get("rule"),
            "resource": after[fp].get("resource"),
            "name": after[fp].get("name"),
            "provider": after[fp].get("provider"),
            "from": _status(before[fp]),
            "to": _status(after[fp]),
        }
        for fp in sorted(before.keys() & after.keys())
        if _status(before[fp]) != _status(after[fp])
    ]
    return {
        "new": [
            _finding_brief(after[fp]) for fp in sorted(after.keys() - before.keys(), key=lambda k: _order(after[k]))
        ],
        "resolved": [
            _finding_brief(before[fp]) for fp in sorted(before.keys() - after.keys(), key=lambda k: _order(before[k]))
        ],
        "changed": changed,
    }


def _status(f: dict[str, Any]) -> str:
    """A finding's standing: its severity, or `waived`."""
    return "waived" if f.get("waived") else str(f.get("severity", ""))


def _order(f: dict[str, Any]) -> tuple[str, str, str, str]:
    return (str(f.get("rule", "")), str(f.get("provider", "")), str(f.get("resource", "")), str(f.get("fingerprint")))


def _finding_brief(f: dict[str, Any]) -> dict[str, Any]:
    keys = ("rule", "title", "severity", "waived", "provider", "account", "resource", "name", "message", "fingerprint")
    return {k: f.get(k) for k in keys}


def _skip_changes(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    def key(s: dict[str, Any]) -> tuple[str, str]:
        return (str(s.get("provider", "")), str(s.get("scope", "")))

    before, after = {key(s): s for s in old}, {key(s): s for s in new}
    return {
        "new": [after[k] for k in sorted(after.keys() - before.keys())],
        "resolved": [before[k] for k in sorted(before.keys() - after.keys())],
    }


def render_diff(d: dict[str, Any]) -> str:
    """A diff as plain text for the terminal (Markdown-compatible: headings and `+`/`-` lists)."""
    lines = [_title(d), _counts(d)]
    if not d.get("changed"):
        return "\n".join([*lines, "", "no changes"]) + "\n"
    sections: list[tuple[str, list[str]]] = [
        ("New data stores", [f"+ {_who(r)} — {r['level'] or '-'} — {_countries(r)}" for r in d["resources"]["added"]]),
        ("Removed data stores", [f"- {_who(r)}" for r in d["resources"]["removed"]]),
        ("Footprint changes", [_footprint_line(c) for c in d["footprint"]]),
        ("Exposure level changes", [_level_line(c) for c in d["levels"]]),
        ("New findings", [_finding_line("+", f) for f in d["findings"]["new"]]),
        ("Resolved findings", [_finding_line("-", f) for f in d["findings"]["resolved"]]),
        (
            "Findings that changed standing",
            [
                f"~ {c['rule']} {c['provider']}:{c['name'] or c['resource']}: {c['from']} → {c['to']}"
                for c in d["findings"]["changed"]
            ],
        ),
        ("New skips", [f"+ {s.get('provider')} {s.get('scope')}: {s.get('reason')}" for s in d["skipped"]["new"]]),
        ("Skips resolved", [f"- {s.get('provider')} {s.get('scope')}" for s in d["skipped"]["resolved"]]),
    ]
    for heading, items in sections:
        if items:
            lines += ["", f"## {heading} ({len(items)})", *items]
    return "\n".join(lines) + "\n"


def _title(d: dict[str, Any]) -> str:
    def side(o: dict[str, Any]) -> str:
        return f"{o.get('path') or o.get('kind') or 'report'} ({o.get('finished_at') or '?'})"

    return f"# residency-audit diff: {side(d['old'])} → {side(d['new'])}"


def _counts(d: dict[str, Any]) -> str:
    up = sum(1 for c in d["levels"] if c["direction"] == "up")
    return (
        f"{len(d['resources']['added'])} new, {len(d['resources']['removed'])} removed data store(s); "
        f"{len(d['footprint'])} footprint change(s); {len(d['levels'])} level change(s) ({up} up, "
        f"{len(d['levels']) - up} down); {len(d['findings']['new'])} new, {len(d['findings']['resolved'])} "
        f"resolved finding(s); {len(d['skipped']['new'])} new skip(s)"
    )


def _who(r: dict[str, Any]) -> str:
    return f"{r.get('provider')}:{r.get('name') or r.get('id')} ({r.get('id')})"


def _countries(r: dict[str, Any]) -> str:
    return " ".join(r.get("countries") or []) or "unknown"


def _footprint_line(c: dict[str, Any]) -> str:
    def loc(x: dict[str, str]) -> str:
        return x["location"] + (" (replica)" if x["role"] == "replica" else "")

    parts = [f"+{loc(x)}" for x in c["locations_added"]] + [f"-{loc(x)}" for x in c["locations_removed"]]
    parts += [f"+{x}" for x in c["countries_added"]] + [f"-{x}" for x in c["countries_removed"]]
    return f"~ {_who(c)}: {' '.join(parts)} → now {_countries(c)}"


def _level_line(c: dict[str, Any]) -> str:
    arrow = "↑" if c["direction"] == "up" else "↓"
    return f"{arrow} {_who(c)}: {c['from'] or '-'} → {c['to'] or '-'}"


def _finding_line(sign: str, f: dict[str, Any]) -> str:
    standing = "waived" if f.get("waived") else f.get("severity")
    who = f"{f.get('provider')}:{f.get('name') or f.get('resource')}"
    return f"{sign} {f.get('rule')} {standing} {who} — {f.get('message')}"
