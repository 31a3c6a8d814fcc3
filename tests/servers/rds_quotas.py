"""RDS DescribeAccountAttributes for the local AWS endpoint (moto 5.2 lacks it): quota usage from moto's state.

Query protocol (XML), shaped by botocore's rds 2014-10-31 model: `AccountQuotas` of `AccountQuota` with
`AccountQuotaName`, `Used` and `Max`. `Used` counts what moto holds for the calling account in the request's Region.
"""

from __future__ import annotations

import uuid

_NS = "http://rds.amazonaws.com/doc/2014-10-31/"
_MAX = {"DBInstances": 40, "DBClusters": 40, "ManualSnapshots": 100, "ManualClusterSnapshots": 100}

_Response = tuple[int, str, list[tuple[str, str]], bytes]


def handles(service: str | None, action: str | None) -> bool:
    """Whether this module answers the request."""
    return service == "rds" and action == "DescribeAccountAttributes"


def answer(access_key: str, region: str) -> _Response:
    """The quotas of the account `access_key` belongs to, in `region`."""
    from moto.iam.models import get_account_id_from
    from moto.rds.models import rds_backends

    account = get_account_id_from(access_key)
    regions = rds_backends.get(account, {})
    backend = regions.get(region) if hasattr(regions, "get") else None
    used = {
        "DBInstances": len(backend.databases) if backend else 0,
        "DBClusters": len(backend.clusters) if backend else 0,
        "ManualSnapshots": len(backend.database_snapshots) if backend else 0,
        "ManualClusterSnapshots": len(backend.cluster_snapshots) if backend else 0,
    }
    quotas = "".join(
        f"<AccountQuota><AccountQuotaName>{name}</AccountQuotaName><Used>{used[name]}</Used>"
        f"<Max>{most}</Max></AccountQuota>"
        for name, most in _MAX.items()
    )
    body = (
        f'<DescribeAccountAttributesResponse xmlns="{_NS}"><DescribeAccountAttributesResult>'
        f"<AccountQuotas>{quotas}</AccountQuotas></DescribeAccountAttributesResult>"
        f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
        "</DescribeAccountAttributesResponse>"
    ).encode()
    return 200, "OK", [("Content-Type", "text/xml")], body
