"""AWS sessions, accounts and regions; each store's reader is in stores/aws/, listed in stores/aws/registry.py.

Read-only: every call is a List/Get/Describe (see docs/permissions.md). boto3 is imported lazily, inside the
tasks, and honours AWS_ENDPOINT_URL, so a local emulator needs no flag.

Round trips are kept to the floor: S3's ListBuckets returns each bucket's region (one call per 10,000 buckets;
GetBucketLocation only for a bucket without it), tags come from the Resource Groups Tagging API (one paged call per
region and service, not one per resource), RDS and EBS list calls already carry encryption and tags, and each KMS
key or global cluster is described once however many resources use it.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ..inventory import WALK, Found
from ..model import Copy, KeyControl, Provider, Resource, Skip
from ..pipeline import Task
from ..scan import SERVICES as ALL_SERVICES
from ..stores.aws.registry import ABSENT_IN_PARTITIONS, ENDPOINT_SERVICE
from ..stores.aws.registry import listings as listings
from ..stores.common import CLIENT_SIDE_TAG, UNKNOWN_LOCATION, Memo, declared_key_control
from .aws_clients import Clients
from .aws_errors import describe_error as describe_error
from .aws_errors import error_code as error_code
from .aws_errors import malformed_json

SERVICES = ALL_SERVICES["aws"]  # one list, in scan.py, so --help need not import this module


@dataclass(frozen=True)
class AwsOptions:
    """What to scan and how."""

    profile: str | None = None
    regions: tuple[str, ...] = ()  # empty: every enabled region
    services: tuple[str, ...] = ()  # empty: every service
    org: bool = False
    account_ids: tuple[str, ...] = ()
    role_name: str = "OrganizationAccountAccessRole"
    inventory: str = "walk"  # or "resource-explorer", "config:NAME[@REGION]" (residency_audit/inventory/)
    classification_tag: str = "data-classification"
    concurrency: int = 16
    timeout: float = 30.0
    max_attempts: int = 5


def tasks(options: AwsOptions) -> Iterator[Task]:
    """The root task of an AWS scan: it finds the accounts and yields the rest."""
    yield Task(Provider.AWS, "aws", lambda: _start(options), describe_error)


def key_control_of(meta: dict[str, Any], key_id: str) -> tuple[KeyControl, str]:
    """Key control of a KMS key from DescribeKey's KeyMetadata (KeyManager, Origin: botocore's kms model)."""
    origin, manager = meta.get("Origin", "?"), meta.get("KeyManager", "?")
    arn = meta.get("Arn", key_id)
    if manager == "AWS":
        return KeyControl.PROVIDER_MANAGED, f"AWS managed KMS key {arn}"
    if origin == "EXTERNAL_KEY_STORE":
        return KeyControl.EXTERNAL, f"KMS key {arn} in an external key store (XKS)"
    return KeyControl.CUSTOMER_MANAGED, f"customer managed KMS key {arn} (origin {origin})"


# --- sessions and clients ------------------------------------------------------------------------------------


class Account:
    """One account's session, with a thread-safe client cache and lazily shared lookups."""

    def __init__(
        self, account_id: str, session: Any, partition: str, options: AwsOptions, clients: Clients | None = None
    ) -> None:
        from botocore.config import Config

        self.id = account_id
        self.session = session
        self.partition = partition
        self.options = options
        self._config = Config(
            retries={"mode": "standard", "max_attempts": options.max_attempts},
            connect_timeout=options.timeout,
            read_timeout=options.timeout,
            max_pool_connections=max(10, options.concurrency),
            user_agent_extra="residency-audit",
            # our parameters are fixed by this module; validating them costs CPU on every one of N requests
            parameter_validation=False,
        )
        self._lock = threading.Lock()
        self.clients = clients if clients is not None else Clients()  # one bounded set for the whole scan
        self._memos: dict[str, Memo] = {}
        # botocore reads an unparsable JSON body as {"message": body}: a listing would silently come back empty
        session.events.register(
            "needs-retry",
            functools.partial(malformed_json, max_attempts=options.max_attempts),
            unique_id="residency-audit-malformed-json",
        )
        self.keys = Memo(self._describe_key)
        # (region, key id or ARN) → DescribeKey's KeyMetadata: one request per key for stores and key lookups alike
        self.key_metadata = Memo(self._key_metadata)
        self.globals = Memo(self._describe_global_cluster)
        # region → its zones by name (DescribeAvailabilityZones), read only for a zone that is not a plain AZ
        self.zones = Memo(self._zones)
        self.tags = Memo(self._tag_map)
        # bucket name → LocationConstraint as S3 returns it; seeded from ListBuckets' BucketRegion
        self.bucket_regions = Memo(self._bucket_location)
        self.home_region = session.region_name
        self.caller = self  # the account the scan runs as (assume() sets it for a member account)

    def client(self, service: str, region: str) -> Any:
        """The account's client for `service` in `region`, kept open while recently used (aws_clients)."""
        make = functools.partial(self.session.client, service, region_name=region, config=self._config)
        return self.clients.get((self.id, service, region), make)

    def memo(self, name: str, fn: Callable[[Any], Any]) -> Memo:
        """The account's memo `name`, made on first use: a lookup several stores share (one request for all)."""
        with self._lock:
            return self._memos.setdefault(name, Memo(fn))

    def scope(self, *parts: str) -> str:
        """A skip scope under this account (or project): the parts joined by '/'."""
        return "/".join(("account", self.id, *parts))

    def _zones(self, region: str) -> dict[str, dict[str, Any]]:
        # AllAvailabilityZones: Local and Wavelength Zones are listed whether or not the account opted in to them
        out = self.client("ec2", region).describe_availability_zones(AllAvailabilityZones=True)
        return {z["ZoneName"]: z for z in out.get("AvailabilityZones", []) if z.get("ZoneName")}

    def place(self, region: str, zone: str | None) -> tuple[str, str | None, Skip | None]:
        """Where a copy in availability zone `zone` of `region` sits: (location code, note, skip once per region).

        A plain AZ (the region's name and a letter) is the region, with no request. Any other zone is looked up
        (DescribeAvailabilityZones ZoneType, GroupName: botocore's ec2 model): a Local Zone is its zone group
        ("us-east-1-lim-1": Lima, not Virginia), a Wavelength Zone its zone name; anything unknown, unreadable or
        on an Outpost is an unknown location, never the parent region.
        """
        if not zone or (zone.startswith(region) and len(zone) == len(region) + 1 and zone[-1].isalpha()):
            return region, None, None
        try:
            found = self.zones.get(region).get(zone)
        except Exception as exc:
            skip = None
            if self.zones.first_failure(region):
                reason = f"zones unreadable, so copies in Local or Wavelength Zones are unplaced: {describe_error(exc)}"
                skip = Skip(Provider.AWS, self.scope("region", region, "availability-zones"), reason)
            return UNKNOWN_LOCATION, f"in zone {zone} of {region}, which could not be looked up", skip
        kind = (found or {}).get("ZoneType")
        if kind == "availability-zone":
            return region, None, None
        if kind == "local-zone" and found and found.get("GroupName"):
            return found["GroupName"], f"in Local Zone {zone} (zone group {found['GroupName']}) of {region}", None
        if kind == "wavelength-zone":
            return zone, f"in Wavelength Zone {zone} of {region}", None
        what = f"of type {kind}" if kind else f"not among {region}'s zones"
        return UNKNOWN_LOCATION, f"in zone {zone} {what}: where it sits is unknown", None

    def _key_metadata(self, arg: tuple[str, str]) -> dict[str, Any]:
        region, key_id = arg
        if key_id.startswith("arn:"):
            region = key_id.split(":")[3] or region
        meta: dict[str, Any] = self.client("kms", region).describe_key(KeyId=key_id)["KeyMetadata"]
        return meta

    def _describe_key(self, arg: tuple[str, str]) -> tuple[KeyControl, str]:
        return key_control_of(self.key_metadata.get(arg), arg[1])

    def key_control(self, region: str, key_id: str | None, default_note: str | None) -> tuple[KeyControl, str]:
        """Key control of a KMS key, described once per key; unknown (never better) if it cannot be read.

        `default_note` says what a missing key id means for this service (S3's aws:kms without a key id is the
        AWS managed key aws/s3); None where the API always names the key, so a missing one is unknown.
        """
        if not key_id:
            if default_note is None:
                return KeyControl.UNKNOWN, "encrypted, but the API named no KMS key"
            return KeyControl.PROVIDER_MANAGED, default_note
        try:
            found: tuple[KeyControl, str] = self.keys.get((region, key_id))
            return found
        except Exception as exc:
            return KeyControl.UNKNOWN, f"KMS key {key_id} could not be described: {describe_error(exc)}"

    def key_skips(self, region: str, key_id: str | None) -> Iterator[Skip]:
        """One skip per KMS key that could not be described: the key control of what it protects is unknown."""
        if not key_id:
            return
        try:
            self.keys.get((region, key_id))  # memoised: no second request
        except Exception as exc:
            if self.keys.first_failure((region, key_id)):
                reason = f"key control unknown for what this key protects: {describe_error(exc)}"
                yield Skip(Provider.AWS, self.scope("region", region, "kms-key", key_id), reason)

    def _bucket_location(self, name: str) -> str:
        constraint = self.client("s3", self.home_region).get_bucket_location(Bucket=name).get("LocationConstraint")
        # null means us-east-1 and "EU" eu-west-1: kept raw here, resolved by the knowledge base's aliases
        return str(constraint or "")

    def _describe_global_cluster(self, arg: tuple[str, str]) -> list[dict[str, Any]]:
        region, gid = arg
        out = self.client("rds", region).describe_global_clusters(GlobalClusterIdentifier=gid)
        members: list[dict[str, Any]] = []
        for cluster in out.get("GlobalClusters", []):
            members.extend(cluster.get("GlobalClusterMembers", []))
        return members

    def _tag_map(self, arg: tuple[str, str]) -> dict[str, dict[str, str]]:
        region, resource_type = arg
        client = self.client("resourcegroupstaggingapi", region)
        found: dict[str, dict[str, str]] = {}
        for page in client.get_paginator("get_resources").paginate(
            ResourceTypeFilters=[resource_type], ResourcesPerPage=100
        ):
            for item in page.get("ResourceTagMappingList", []):
                found[item["ResourceARN"]] = {t["Key"]: t["Value"] for t in item.get("Tags", [])}
        return found

    def tags_for(self, region: str, resource_type: str, arn: str) -> tuple[dict[str, str], Skip | None]:
        """A resource's tags from the region's batch tag map; a skip (once per region) if it cannot be read."""
        try:
            return self.tags.get((region, resource_type)).get(arn, {}), None
        except Exception as exc:
            if self.tags.first_failure((region, resource_type)):
                reason = (
                    f"tags unreadable, so declared encryption and classification are unknown: {describe_error(exc)}"
                )
                return {}, Skip(Provider.AWS, self.scope("region", region, "tags", resource_type), reason)
            return {}, None


def _session(options: AwsOptions, region: str | None = None, credentials: dict[str, str] | None = None) -> Any:
    import boto3

    kwargs: dict[str, Any] = {}
    if credentials:
        kwargs = {
            "aws_access_key_id": credentials["AccessKeyId"],
            "aws_secret_access_key": credentials["SecretAccessKey"],
            "aws_session_token": credentials["SessionToken"],
        }
    elif options.profile:
        kwargs["profile_name"] = options.profile
    session = boto3.Session(**kwargs)
    if region or not session.region_name:
        session = boto3.Session(**kwargs, region_name=region or "us-east-1")
    return session


# --- accounts and regions ------------------------------------------------------------------------------------


def _start(options: AwsOptions) -> Iterator[Task | Skip]:
    base = _session(options)
    home_region = base.region_name
    identity = base.client("sts", region_name=home_region).get_caller_identity()
    caller, partition = identity["Account"], identity["Arn"].split(":")[1]
    me = Account(caller, base, partition, options)

    targets: list[str] = list(dict.fromkeys(options.account_ids))
    if options.org:
        org = me.client("organizations", home_region)
        for page in org.get_paginator("list_accounts").paginate():
            for acct in page.get("Accounts", []):
                if acct.get("Status", "ACTIVE") == "ACTIVE" and acct["Id"] not in targets:
                    targets.append(acct["Id"])
    if not targets:
        targets = [caller]
    if options.inventory != "walk":
        from ..inventory import aws_engines

        yield Task(
            Provider.AWS,
            f"inventory/{options.inventory}",
            functools.partial(aws_engines.start, me, targets),
            describe_error,
        )
        return
    yield from walk(me, targets)


def walk(me: Account, targets: list[str]) -> Iterator[Task]:
    """The walk: every account, enabled region and service."""
    for account_id in targets:
        if account_id == me.id:
            yield Task(Provider.AWS, me.scope(), functools.partial(_account, me), describe_error)
        else:
            yield Task(
                Provider.AWS,
                f"account/{account_id}",
                functools.partial(_enter, me, account_id),
                describe_error,
            )


def assume(me: Account, account_id: str) -> Account:
    """A member account entered through --role-name (STS AssumeRole)."""
    role_arn = f"arn:{me.partition}:iam::{account_id}:role/{me.options.role_name}"
    creds = me.client("sts", me.home_region).assume_role(RoleArn=role_arn, RoleSessionName="residency-audit")[
        "Credentials"
    ]
    member = Account(account_id, _session(me.options, me.home_region, creds), me.partition, me.options, me.clients)
    member.caller = me  # organization-wide settings are read once, with the caller's (management) credentials
    return member


def _enter(me: Account, account_id: str) -> Iterator[Task | Skip | Found]:
    yield from _account(assume(me, account_id))


def enabled_regions(account: Account) -> list[str]:
    """The account's enabled regions (within --region, if given)."""
    ec2 = account.client("ec2", account.home_region)
    enabled = [r["RegionName"] for r in ec2.describe_regions().get("Regions", [])]
    if account.options.regions:
        enabled = [r for r in enabled if r in account.options.regions]
    return enabled


def offered(account: Account, service: str, regions: list[str]) -> list[str]:
    """Those of `regions` where the service has an endpoint in the account's partition."""
    if account.partition in ABSENT_IN_PARTITIONS.get(service, ()):
        return []
    known = set(account.session.get_available_regions(ENDPOINT_SERVICE[service], account.partition))
    return [r for r in regions if r in known] if known else regions


def _account(account: Account) -> Iterator[Task | Skip | Found]:
    from ..stores.aws.s3 import s3_list

    # the walk answers for this account (it counts what its stores read; the org-wide engines count the rest)
    yield Found(Provider.AWS, WALK, account.scope(), "", 0)
    enabled = enabled_regions(account)
    services = account.options.services or SERVICES
    for service in services:
        regions = offered(account, service, enabled)
        if service == "s3":
            yield Task(
                Provider.AWS,
                account.scope("service", "s3"),
                functools.partial(s3_list, account, regions),
                describe_error,
            )
            continue
        run = listings()[service]
        for region in regions:
            yield Task(
                Provider.AWS,
                account.scope("region", region, "service", service),
                functools.partial(run, account, region),
                describe_error,
            )


def resource(
    account: Account,
    service: str,
    rtype: str,
    rid: str,
    name: str,
    footprint: Iterable[Copy],
    tags: dict[str, str],
    key: tuple[KeyControl, str],
) -> Resource:
    """A Resource from what the API returned, with declared client-side encryption applied."""
    key_control, key_note = declared_key_control(tags, CLIENT_SIDE_TAG, key)
    if key_control is KeyControl.CLIENT_SIDE and key[0] is not KeyControl.CLIENT_SIDE:
        # encrypted before upload: every copy holds that ciphertext, whatever keys a replica is re-encrypted with
        footprint = [Copy(c.code, c.role, c.location, c.note) for c in footprint]
    return Resource(
        provider=Provider.AWS,
        account=account.id,
        service=service,
        type=rtype,
        id=rid,
        name=name,
        footprint=tuple(footprint),
        key_control=key_control,
        key_note=key_note,
        tags=tags,
        classification=tags.get(account.options.classification_tag),
    )


def tag_list(items: Iterable[dict[str, str]]) -> dict[str, str]:
    """AWS's [{Key, Value}] tag list as a dict."""
    return {t["Key"]: t["Value"] for t in items}
