"""Azure: 20 subscriptions x 25 storage accounts behind 40 ms per request, both inventory paths (issue 4).

Targets: the Resource Graph path needs a handful of requests for the inventory of the whole estate; the Resource
Manager path one list per subscription and type (plus the subscription list); wall time near the floor (requests x
40 ms / concurrency). On top of either, one object replication list per storage account (Resource Graph holds no
policy): 500 here, reported on their own line; one account in each subscription replicates to the next
subscription's first account, whose location comes from the inventory (no request).
"""

from __future__ import annotations

import os
from collections import Counter

from tests.servers.azure import AzureEndpoint
from tests.servers.azure_stores import add_object_replication

from .common import LATENCY, floor, line, run_measured

SUBSCRIPTIONS = 20
ACCOUNTS = 25
CONCURRENCY = 16
REGIONS = [
    ("westeurope", "Standard_GRS", "northeurope"),
    ("brazilsouth", "Standard_RAGRS", "southcentralus"),
    ("germanywestcentral", "Standard_LRS", None),
    ("italynorth", "Standard_ZRS", None),
    ("eastus", "Standard_GZRS", "westus"),
]


def _seed(ep: AzureEndpoint) -> None:
    for s in range(SUBSCRIPTIONS):
        sub = f"{s:08d}-0000-4000-8000-000000000000"
        ep.add_subscription(sub, f"bench {s}")
        for a in range(ACCOUNTS):
            location, sku, secondary = REGIONS[a % len(REGIONS)]
            ep.add_storage_account(sub, f"bench{s:02d}{a:03d}", location, sku, secondary_location=secondary)
    for s in range(SUBSCRIPTIONS):  # one blob object replication policy per subscription, to the next one
        source, dest = (f"{i:08d}-0000-4000-8000-000000000000" for i in (s, (s + 1) % SUBSCRIPTIONS))
        account = "/subscriptions/{}/resourceGroups/data/providers/Microsoft.Storage/storageAccounts/bench{:02d}{:03d}"
        add_object_replication(ep, account.format(source, s, 1), account.format(dest, (s + 1) % SUBSCRIPTIONS, 0))


def scenario(ep: AzureEndpoint, graph: bool) -> dict[str, object]:
    """Scan the seeded estate through one inventory path with 40 ms per request; return the figures.

    The same scan at 0 ms is run first: its wall time is the command's fixed cost on this machine (interpreter and
    SDK start-up, the token, and the CPU of client and server, which share two cores), so the difference is what the
    latency costs, to compare with the floor.
    """
    env = {**ep.env(dict(os.environ)), "COLUMNS": "200"}
    args = ["scan", "--provider", "azure", "--format", "json", "--concurrency", str(CONCURRENCY)]
    args.append("--resource-graph" if graph else "--no-resource-graph")
    ep.latency = 0.0
    baseline = run_measured(args, env)
    ep.clear_log()
    ep.latency = LATENCY
    result = run_measured(args, env)
    ep.latency = 0.0
    counts = Counter({f"{method} {pattern}": c for (method, pattern), c in ep.counts.items()})
    found = len(result["report"]["resources"]) if result["report"] else 0
    return {"graph": graph, "counts": counts, "found": found, "wall0": baseline["wall"], **result}


def report(fig: dict[str, object]) -> None:
    """Print one scenario's figures next to its targets."""
    counts: Counter[str] = fig["counts"]  # type: ignore[assignment]
    total = sum(counts.values())
    path = "Resource Graph" if fig["graph"] else "Resource Manager (--no-resource-graph)"
    print(
        f"\nAzure, {SUBSCRIPTIONS} subscriptions x {ACCOUNTS} storage accounts, every service, {path}, "
        f"{LATENCY * 1000:.0f} ms per request, concurrency {CONCURRENCY}"
    )
    line("resources found / exit code", f"{fig['found']} / {fig['code']}")
    line("requests, total", str(total))
    policies = sum(v for k, v in counts.items() if k.endswith("/objectReplicationPolicies"))
    line("  of which the inventory", str(total - policies))
    line("  of which object replication lists (one per account)", str(policies))
    for key, value in sorted(counts.items(), key=lambda kv: -kv[1]):
        line(f"  {key.replace('{subscriptionId}', '{sub}')[:60]}", str(value))
    fl = floor(total, CONCURRENCY, LATENCY)
    wall = float(fig["wall"])  # type: ignore[arg-type]
    wall0 = float(fig["wall0"])  # type: ignore[arg-type]
    line("wall time (whole command, start-up included)", f"{wall:.2f} s")
    line("the same scan at 0 ms per request", f"{wall0:.2f} s")
    line("what the latency cost (difference)", f"{wall - wall0:.2f} s")
    line("floor (requests x latency / concurrency)", f"{fl:.2f} s")
    line("peak memory of the scan (RSS)", f"{float(fig['rss_mb']):.0f} MB")  # type: ignore[arg-type]
    if fig["code"] != 0:
        print(str(fig["stderr"])[-2000:])


def main() -> None:
    """Run the Azure scenarios."""
    with AzureEndpoint() as ep:
        _seed(ep)
        for graph in (True, False):
            report(scenario(ep, graph))


if __name__ == "__main__":
    main()
