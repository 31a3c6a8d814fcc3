"""Cheap signals that let the walk skip a listing: only the service's own count of the very objects listed.

RDS `DescribeAccountAttributes` reports, per account and Region, the current usage of each RDS quota; `DBInstances`
and `DBClusters` count every DB instance and cluster the two RDS listings would return (Aurora clusters without
instances included), so when both are 0 there is nothing to list, and one call replaces two. Anything short of that
proof (the call refused, a quota missing, a count above zero) means: list as before. Sources: Amazon RDS API
Reference, DescribeAccountAttributes ("current usage toward that quota") and AccountQuota ("DBClusters … the used
value is the count of DB clusters in the account"; DBInstances likewise). Assumed, not verified here: that these
counts include the Neptune and DocumentDB clusters the same RDS listings return (they share the RDS API and its
endpoints); the local tests cannot show it.
"""

from __future__ import annotations

from typing import Any

RDS_QUOTAS = ("DBInstances", "DBClusters")


def rds_region_empty(rds: Any) -> bool:
    """True only when RDS itself reports no DB instance and no DB cluster in the client's account and Region."""
    try:
        quotas = rds.describe_account_attributes().get("AccountQuotas", [])
    except Exception:  # no proof of emptiness: the listings run, and report their own errors
        return False
    used = {q.get("AccountQuotaName"): q.get("Used") for q in quotas}
    return all(used.get(name) == 0 for name in RDS_QUOTAS)
