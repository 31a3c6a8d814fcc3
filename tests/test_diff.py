"""`diff`: what changed between two saved reports, matched by resource key and finding fingerprint."""

from __future__ import annotations

import copy
from typing import Any

from residency_audit.diff import diff, render_diff
from tests.test_reporters import copy_, finding, make_report, resource


def by_name(rep: dict[str, Any], name: str) -> dict[str, Any]:
    return next(r for r in rep["resources"] if r["name"] == name)


def test_identical_reports_have_no_changes() -> None:
    old = make_report()
    d = diff(old, copy.deepcopy(old))
    assert d["changed"] is False
    assert d["resources"] == {"added": [], "removed": []} and d["footprint"] == [] and d["levels"] == []
    assert render_diff(d).rstrip().endswith("no changes")


def test_added_and_removed_resources_match_on_provider_account_and_id() -> None:
    old = make_report()
    new = copy.deepcopy(old)
    new["resources"] = [r for r in new["resources"] if r["name"] != "eu-archive"]
    moved = copy.deepcopy(by_name(old, "old-logs"))
    moved["account"] = "333333333333"  # same id in another account is another resource
    fresh = resource("aws", "111111111111", "s3", "new-bucket", [copy_("us-east-2", ["US"])], "critical", ["US"])
    new["resources"] += [moved, fresh]
    d = diff(old, new)
    added = [(r["account"], r["name"]) for r in d["resources"]["added"]]
    assert added == [("111111111111", "new-bucket"), ("333333333333", "old-logs")]
    assert [r["name"] for r in d["resources"]["removed"]] == ["eu-archive"]
    assert d["resources"]["added"][0]["level"] == "critical" and d["resources"]["added"][0]["countries"] == ["US"]
    text = render_diff(d)
    assert "+ aws:new-bucket (arn:aws:s3:::new-bucket) — critical — US" in text
    assert "- gcp:eu-archive" in text


def test_footprint_and_level_changes() -> None:
    old = make_report()
    new = copy.deepcopy(old)
    logs = by_name(new, "old-logs")  # gains a replica in the US: its footprint grows and its level goes up
    logs["footprint"].append(copy_("us-west-2", ["US"], "replica"))
    logs["countries"] = ["IE", "US"]
    logs["assessment"]["level"] = "critical"
    customer = by_name(new, "customer-data")  # replication removed, keys moved out: down
    customer["footprint"] = customer["footprint"][:1]
    customer["countries"] = ["DE"]
    customer["assessment"]["level"] = "low"
    d = diff(old, new)
    changes = {c["name"]: c for c in d["footprint"]}
    assert changes["old-logs"]["locations_added"] == [{"location": "us-west-2", "role": "replica"}]
    assert changes["old-logs"]["countries_added"] == ["US"] and changes["old-logs"]["countries_removed"] == []
    assert changes["customer-data"]["locations_removed"] == [{"location": "us-west-2", "role": "replica"}]
    assert changes["customer-data"]["countries_removed"] == ["US"]
    levels = {c["name"]: (c["from"], c["to"], c["direction"]) for c in d["levels"]}
    assert levels == {"old-logs": ("medium", "critical", "up"), "customer-data": ("critical", "low", "down")}
    text = render_diff(d)
    assert "↑ aws:old-logs (arn:aws:s3:::old-logs): medium → critical" in text
    assert "↓ aws:customer-data" in text and "+us-west-2 (replica) +US → now IE US" in text
    assert "2 level change(s) (1 up, 1 down)" in text


def test_new_resolved_and_changed_findings_by_fingerprint() -> None:
    old = make_report()
    new = copy.deepcopy(old)
    resolved = new["findings"].pop(0)  # sessions' RA001 fixed
    mystery = by_name(new, "mystery")
    new["findings"].append(finding("RA002", "error", mystery, "foreign reach without key control"))
    legacy = next(f for f in new["findings"] if f["name"] == "legacy-exports")
    legacy["waived"], legacy["waiver"]["expired"] = False, True  # its waiver ran out
    # the message of a finding may change between runs: the fingerprint still matches it
    next(f for f in new["findings"] if f["rule"] == "RA004")["message"] = "reworded"
    d = diff(old, new)
    assert [(f["rule"], f["name"]) for f in d["findings"]["new"]] == [("RA002", "mystery")]
    assert [f["fingerprint"] for f in d["findings"]["resolved"]] == [resolved["fingerprint"]]
    assert [(c["name"], c["from"], c["to"]) for c in d["findings"]["changed"]] == [
        ("legacy-exports", "waived", "error")
    ]
    text = render_diff(d)
    assert "+ RA002 error aws:mystery — foreign reach without key control" in text
    assert f"- RA001 error {resolved['provider']}:{resolved['name']}" in text
    assert "~ RA001 aws:legacy-exports: waived → error" in text


def test_skips_new_and_resolved() -> None:
    old = make_report()
    new = make_report(skipped=False)
    new["skipped"] = [{"provider": "gcp", "scope": "project/acme-prod", "reason": "PERMISSION_DENIED"}]
    d = diff(old, new)
    assert [s["scope"] for s in d["skipped"]["new"]] == ["project/acme-prod"]
    assert [s["scope"] for s in d["skipped"]["resolved"]] == ["account/111111111111/region/eu-west-1/service/rds"]
    assert d["changed"] is True
    assert "+ gcp project/acme-prod: PERMISSION_DENIED" in render_diff(d)


def test_diff_is_pure_and_stable() -> None:
    old, new = make_report(), make_report(extra_resources=3)
    before = (copy.deepcopy(old), copy.deepcopy(new))
    first = diff(old, new)
    assert (old, new) == before
    new["resources"].reverse()
    assert diff(old, new) == first  # order of resources in a report does not matter
    assert [r["name"] for r in first["resources"]["added"]] == ["bulk-00000", "bulk-00001", "bulk-00002"]
