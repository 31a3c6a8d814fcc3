"""OpenSearch Service domains: the domain's region, and the regions its data may be pulled to; live and planned.

Which way data moves through a cross-cluster connection: the *local* domain opens it (an outbound connection) to a
*remote* domain, which accepts it (an inbound connection there). Cross-cluster search sends queries from local to
remote and copies nothing at rest; cross-cluster replication is a pull model, the local domain being the follower
that copies the remote (leader) domain's indices; remote reindex (ConnectionMode VPC_ENDPOINT) also copies remote
data into the local domain. So an outbound connection never copies the local domain's data anywhere: it is the
*remote* domain whose data may be copied, to the local domain's region. Whether a DIRECT connection carries
replication or only search is set inside OpenSearch (`_plugins/_replication`), which the AWS API does not show; a
gate must not pass on that unknown, so each accepted connection to a domain of ours counts as a possible copy in the
connecting domain's region, and its note says so. We read it from the remote side, where the domain is assessed:
DescribeInboundConnections (botocore's opensearch model: `Connections[].LocalDomainInfo.AWSDomainInformation.Region`,
`RemoteDomainInfo…DomainName`, `ConnectionStatus.StatusCode`, `ConnectionMode`), once per region with a domain.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ...clouds.aws import Account, describe_error, resource
from ...model import Copy, CopyRole, KeyControl, Provider, Resource, Skip
from ...plan.context import Context, Item, plan_tags
from ..common import UNKNOWN_LOCATION, dedupe_places
from .registry import TAG_TYPES

DEFAULT_KEY = "encrypted at rest with the AWS managed key aws/es"
# accepted connections (data may flow); pending, rejected and deleted ones carry nothing
LIVE = {"APPROVED", "PROVISIONING", "ACTIVE"}
MODES = {"DIRECT": "cross-cluster search or replication", "VPC_ENDPOINT": "remote reindex"}

# --- live -----------------------------------------------------------------------------------------------------


def opensearch_list(account: Account, region: str) -> Iterator[Resource | Skip]:
    """The region's domains, each with the regions of the domains connected to it (possible copies)."""
    client = account.client("opensearch", region)
    names = [d["DomainName"] for d in client.list_domain_names().get("DomainNames", []) if d.get("DomainName")]
    if not names:
        return
    connections: dict[str, list[dict[str, Any]]] = {}
    unread: str | None = None
    try:
        for connection in _inbound(client):
            remote = (connection.get("RemoteDomainInfo") or {}).get("AWSDomainInformation") or {}
            status = (connection.get("ConnectionStatus") or {}).get("StatusCode")
            if status in LIVE and remote.get("OwnerId", account.id) == account.id:
                connections.setdefault(remote.get("DomainName", ""), []).append(connection)
    except Exception as exc:
        unread = describe_error(exc)
        scope = account.scope("region", region, "service", "opensearch", "connections")
        yield Skip(Provider.AWS, scope, f"cross-cluster connections unknown: {unread}")
    for start in range(0, len(names), 5):  # DescribeDomains takes at most 5 names
        for domain in client.describe_domains(DomainNames=names[start : start + 5]).get("DomainStatusList", []):
            footprint = [Copy(region, CopyRole.PRIMARY)]
            for connection in connections.get(domain["DomainName"], []):
                footprint.append(_copy(connection))
            if unread is not None:
                footprint.append(Copy(UNKNOWN_LOCATION, CopyRole.REPLICA, note="cross-cluster connections unread"))
            arn = domain.get("ARN") or f"arn:{account.partition}:es:{region}:{account.id}:domain/{domain['DomainName']}"
            tags, skip = account.tags_for(region, TAG_TYPES["opensearch"], arn)
            if skip is not None:
                yield skip
            rest = domain.get("EncryptionAtRestOptions") or {}
            if rest.get("Enabled"):
                key = account.key_control(region, rest.get("KmsKeyId"), DEFAULT_KEY)
                yield from account.key_skips(region, rest.get("KmsKeyId"))
            else:
                key = (KeyControl.PROVIDER_MANAGED, "not encrypted at rest")
            rtype = "AWS::OpenSearchService::Domain"
            yield resource(account, "opensearch", rtype, arn, domain["DomainName"], dedupe_places(footprint), tags, key)


def _inbound(client: Any) -> Iterator[dict[str, Any]]:
    token: str | None = None
    while True:
        page = client.describe_inbound_connections(**({"NextToken": token} if token else {}))
        yield from page.get("Connections", [])
        token = page.get("NextToken")
        if not token:
            return


def _copy(connection: dict[str, Any]) -> Copy:
    local = (connection.get("LocalDomainInfo") or {}).get("AWSDomainInformation") or {}
    where = local.get("Region") or UNKNOWN_LOCATION
    mode = MODES.get(connection.get("ConnectionMode") or "DIRECT", "an unknown connection mode")
    note = (
        f"possible copy: domain {local.get('DomainName', '?')} (account {local.get('OwnerId', '?')}) connects to "
        f"this one ({connection.get('ConnectionId', '?')}, {mode}); replication or reindex would pull its indices "
        "there, search copies nothing at rest, and which it is cannot be seen through the AWS API"
    )
    # the copy sits in the other domain, under that domain's keys, which this account may not be able to read
    return Copy(where, CopyRole.REPLICA, note=note, key_control=KeyControl.UNKNOWN)


# --- the Terraform plan reader --------------------------------------------------------------------------------


def _plan_domain(ctx: Context, item: Item) -> Resource:
    region, note = ctx.aws_region(item)
    footprint = [Copy(region, CopyRole.PRIMARY, note=note)]
    name = item.text("domain_name")
    for connection in ctx.by_type.get("aws_opensearch_outbound_connection", []):
        remote = (connection.blocks("remote_domain_info") or [{}])[0]
        local = (connection.blocks("local_domain_info") or [{}])[0]
        if name is not None and remote.get("domain_name") == name and remote.get("region", region) == region:
            where = local.get("region") or UNKNOWN_LOCATION
            note = (
                f"possible copy: {connection.address} connects {local.get('domain_name', '?')} to this domain "
                "(replication or reindex would pull its indices there)"
            )
            footprint.append(Copy(where, CopyRole.REPLICA, note=note, key_control=KeyControl.UNKNOWN))
    if item.blocks("encrypt_at_rest") and item.blocks("encrypt_at_rest")[0].get("enabled") is True:
        key = ctx.aws_key(item, ("encrypt_at_rest", 0, "kms_key_id"), DEFAULT_KEY)
    else:
        key = (KeyControl.PROVIDER_MANAGED, "not encrypted at rest")
    return ctx.resource(
        item,
        Provider.AWS,
        ("opensearch", "AWS::OpenSearchService::Domain", "domain_name"),
        dedupe_places(footprint),
        key,
        plan_tags(item, "tags_all", "tags"),
    )


# Terraform resource types this module's plan reader evaluates
PLAN: dict[str, Callable[[Context, Item], Resource]] = {
    "aws_opensearch_domain": _plan_domain,
    "aws_elasticsearch_domain": _plan_domain,
}
