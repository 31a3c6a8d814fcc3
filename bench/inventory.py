"""Inventory engines (issue 11 §5): requests per empty AWS account-region, and Cloud Asset Inventory's requests.

AWS: an organization of 50 member accounts plus the management account, in every Region moto enables (38), with
nothing in it: the real command scans it with `--org` through AssumeRole, once with the walk and once through each
engine's stand-in (Resource Explorer indexes in every account-Region; a Config organization aggregator over all of
them). Printed: requests per empty account-Region, and the requests by action.

Google Cloud: 200 projects under one organization, each with a bucket and a BigQuery dataset, scanned with
`--organization` through Cloud Asset Inventory and with `--no-cloud-asset`; then the same with 50 projects, to show
that CAI's requests follow its paging (500 resources a request), not the number of projects. Last, the walk of an
organization with 0, 10 and 100 folders: each folder's log sinks cost one `sinks.list` (the walk lists the folders
anyway, to find their projects).
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

from tests.servers.aws import AwsEndpoint, seed_organization
from tests.servers.gcp import GcpEndpoint

from .common import line, run_measured

MEMBERS = 50
CONCURRENCY = 16
PROJECTS = 200
_NOT_EBS = ("--service", "s3", "--service", "dynamodb", "--service", "rds")


def _aws_scan(ep: AwsEndpoint, *args: str) -> tuple[dict[str, Any], Counter[str]]:
    ep.clear_log()
    env = {**ep.env(dict(os.environ)), "COLUMNS": "200"}
    result = run_measured(
        ["scan", "--org", "--format", "json", "--concurrency", str(CONCURRENCY), "--timeout", "60", *args], env
    )
    counts = Counter(f"{svc}:{action}" for (svc, action), n in ep.counts.items() for _ in range(n))
    return result, counts


def aws() -> None:
    """The organization, empty, scanned by the walk and through each engine."""
    with AwsEndpoint() as ep:
        session = ep.session(direct=True)
        members = seed_organization(session, [f"member-{i:02d}" for i in range(MEMBERS)])
        accounts = [str(session.client("sts").get_caller_identity()["Account"]), *members]
        regions = [r["RegionName"] for r in ep.client("ec2").describe_regions()["Regions"]]
        ep.inventory.index(accounts, regions, aggregator_region="us-east-1")
        ep.inventory.aggregator("org", accounts, regions)
        cells = len(accounts) * len(regions)
        print(f"\nAWS organization: {len(accounts)} accounts x {len(regions)} regions = {cells} empty account-regions")
        for label, args in (
            ("walk", ()),
            ("resource-explorer", ("--aws-inventory", "resource-explorer")),
            ("config:org", ("--aws-inventory", "config:org")),
            # Config records no EBS snapshots, so the run above walks them in every account-region; without them:
            ("config:org, no ebs-snapshot", ("--aws-inventory", "config:org", *_NOT_EBS)),
        ):
            result, counts = _aws_scan(ep, *args)
            total = sum(counts.values())
            line(f"{label}: requests / exit code", f"{total} / {result['code']}")
            line(f"{label}: requests per empty account-region", f"{total / cells:.3f}")
            for key, value in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:8]:
                line(f"  {key}", str(value))
            if result["code"] != 0:
                print(result["stderr"][-1500:])


def _gcp_scan(ep: GcpEndpoint, *args: str) -> tuple[dict[str, Any], Counter[str]]:
    ep.clear_log()
    env = {**ep.env(dict(os.environ)), "COLUMNS": "200"}
    argv = ["scan", "--provider", "gcp", "--organization", "1000", "--format", "json", "--concurrency"]
    result = run_measured([*argv, str(CONCURRENCY), *args], env)
    return result, Counter(f"{api}:{op}" for (api, _method, op), n in ep.counts.items() for _ in range(n))


def gcp() -> None:
    """200 and 50 projects through Cloud Asset Inventory, and 200 through the walk."""
    for projects in (PROJECTS, 50):
        with GcpEndpoint() as ep:
            ep.cloud_asset.enabled = True
            for p in range(projects):
                project = f"bench-{p:03d}"
                ep.add_project(project)
                ep.put_bucket(project, {"name": f"{project}-data", "location": "EU", "locationType": "multi-region"})
                ep.add_dataset(project, "events", "europe-west3")
            print(f"\nGoogle Cloud: {projects} projects under an organization, a bucket and a dataset in each")
            runs = [("cloud asset inventory", ())]
            if projects == PROJECTS:
                runs.append(("walk (--no-cloud-asset)", ("--no-cloud-asset",)))
            for label, args in runs:
                result, counts = _gcp_scan(ep, *args)
                report = result["report"] or {"resources": []}
                total = sum(counts.values())
                line(f"{label}: resources / exit code", f"{len(report['resources'])} / {result['code']}")
                line(f"{label}: requests", str(total))
                for key, value in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
                    line(f"  {key}", str(value))
                if counts.get("cloudasset:searchAllResources"):
                    assets = projects * 3  # each project, its bucket and its dataset
                    line("  CAI pages for the assets (500 a page)", f"{-(-assets // 500)} for {assets} assets")


def gcp_folders() -> None:
    """The walk of an organization with N folders (each with a project): what the folders' log sinks add."""
    for n in (0, 10, 100):
        with GcpEndpoint() as ep:
            for f in range(n):  # half of them one level down, under the first ten
                ep.add_folder(f"folders/{100 + f}", f"folders/{100 + f % 10}" if f >= 10 else "organizations/1000")
                ep.add_project(f"bench-{f:03d}", f"folders/{100 + f}")
            print(f"\nGoogle Cloud walk: an organization with {n} folders, a project in each (--service logging-sink)")
            result, counts = _gcp_scan(ep, "--no-cloud-asset", "--service", "logging-sink")
            line("requests / exit code", f"{sum(counts.values())} / {result['code']}")
            for key in ("logging:sinks.list", "resourcemanager:folders.list", "resourcemanager:projects.search"):
                line(f"  {key}", str(counts.get(key, 0)))


def main() -> None:
    """Run every scenario."""
    aws()
    gcp()
    gcp_folders()


if __name__ == "__main__":
    main()
