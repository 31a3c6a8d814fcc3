"""What moto 5.2 lacks, added to its answers by the local AWS endpoint (per service, from the endpoint's switches).

* S3: ListBuckets' ``BucketRegion``, ``max-buckets``/``continuation-token`` paging and ``bucket-region`` filter, real
  S3's 301 for a bucket addressed through another region, and region codes for moto's legacy "EU";
* DynamoDB global-table replicas, KMS key origins, EFS replication configurations and their overwrite protection,
  Backup recovery points, and Local Zones in DescribeAvailabilityZones;
* and the hooks of the other stand-ins (tests/servers/aws_inventory.py, aws_copies.py, aws_graph.py).
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

from . import aws_copies, aws_inventory
from .aws_requests import RequestRecord, s3_error
from .aws_wire import _Response

if TYPE_CHECKING:
    from .aws import AwsEndpoint

_S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"


def forward(endpoint: AwsEndpoint, rec: RequestRecord, headers: list[tuple[str, str]], body: bytes) -> _Response:
    """Answer one request: from a stand-in where moto has no such API, else moto's answer with what it lacks added."""
    if endpoint.inventory.handles(rec.service, rec.action):
        return aws_inventory.run(endpoint.inventory, rec.service, rec.region, rec.action, body)
    upstream = functools.partial(endpoint.upstream, rec.method, rec.path, headers, body)
    auth = next((v for k, v in headers if k.lower() == "authorization"), "")
    done = aws_copies.forward(endpoint.copies, rec.service, rec.region or "", rec.action, body, upstream, auth)
    if done is not None:
        return done
    if rec.service == "s3" and rec.action == "ListBuckets" and rec.method == "GET":
        return _list_buckets(endpoint, rec, headers)
    if rec.service == "s3" and endpoint.s3_region_redirects:
        redirect = _s3_redirect(endpoint, rec, headers)
        if redirect is not None:
            return redirect
    if rec.service == "elasticfilesystem" and rec.action == "DescribeReplicationConfigurations":
        return _efs_replications(endpoint, rec)
    if (answer := endpoint.graph.answer(rec.service, rec.action, body, rec.region)) is not None:
        return answer
    if (answer := endpoint.caches.answer(rec.service, rec.region, rec.action, rec.path, body, auth)) is not None:
        return answer
    if rec.service == "backup" and rec.action == "ListRecoveryPointsByBackupVault":
        vault = urlsplit(rec.path).path.split("/")[2]
        doc = {"RecoveryPoints": endpoint.recovery_points.get((rec.region or "", vault), [])}
        return 200, "OK", [("Content-Type", "application/json")], json.dumps(doc).encode()
    resp = endpoint.graph.edit(
        rec.service, rec.region, rec.action, endpoint.upstream(rec.method, rec.path, headers, body)
    )
    if rec.service == "s3":
        # moto keeps "EU" as the region of buckets created with that constraint; S3 headers carry region codes.
        status, reason, resp_headers, data = resp
        fixed = [(k, "eu-west-1" if k.lower() == "x-amz-bucket-region" and v == "EU" else v) for k, v in resp_headers]
        return status, reason, fixed, data
    if resp[0] == 200 and rec.service == "dynamodb" and rec.action == "DescribeTable":
        return _edit_json(resp, lambda doc: _add_replicas(endpoint, rec.region, doc))
    if resp[0] == 200 and rec.service == "kms" and rec.action == "DescribeKey":
        return _edit_json(resp, functools.partial(_override_origin, endpoint))
    if resp[0] == 200 and rec.service == "backup" and rec.action == "ListBackupVaults":
        return _edit_json(resp, lambda doc: _count_points(endpoint, rec.region or "", doc))
    if resp[0] == 200 and rec.service == "elasticfilesystem" and rec.action == "DescribeFileSystems":
        return _edit_json(resp, functools.partial(_efs_protection, endpoint))
    if resp[0] == 200 and rec.service == "ec2" and rec.action == "DescribeAvailabilityZones":
        return _add_zones(endpoint, rec.region or "", resp)
    return resp


def _efs_replications(endpoint: AwsEndpoint, rec: RequestRecord) -> _Response:
    """DescribeReplicationConfigurations (REST-JSON): the region's configurations, or those of one file system."""
    wanted = parse_qs(urlsplit(rec.path).query).get("FileSystemId", [None])[0]
    found = []
    for region, configs in endpoint.efs_replications.items():
        for config in configs:
            here = {d.get("FileSystemId") for d in config.get("Destinations", []) if d.get("Region") == rec.region}
            if region == rec.region:
                here.add(config["SourceFileSystemId"])
            # the region's own configurations; a replica's, asked for by its id in the replica's region
            if (wanted is None and region == rec.region) or wanted in here:
                found.append(config)
    if wanted is not None and not found:
        body = json.dumps({"ErrorCode": "ReplicationNotFound", "Message": f"no replication for {wanted}"})
        headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", "ReplicationNotFound")]
        return 404, "Not Found", headers, body.encode()
    return 200, "OK", [("Content-Type", "application/json")], json.dumps({"Replications": found}).encode()


def _count_points(endpoint: AwsEndpoint, region: str, doc: dict[str, Any]) -> None:
    for vault in doc.get("BackupVaultList", []):
        vault["NumberOfRecoveryPoints"] = len(endpoint.recovery_points.get((region, vault["BackupVaultName"]), []))


def _efs_protection(endpoint: AwsEndpoint, doc: dict[str, Any]) -> None:
    replicas = {
        d.get("FileSystemId")
        for configs in endpoint.efs_replications.values()
        for config in configs
        for d in config.get("Destinations", [])
    }
    for fs in doc.get("FileSystems", []):
        state = "REPLICATING" if fs.get("FileSystemId") in replicas else "ENABLED"
        fs["FileSystemProtection"] = {"ReplicationOverwriteProtection": state}


def _add_zones(endpoint: AwsEndpoint, region: str, resp: _Response) -> _Response:
    """DescribeAvailabilityZones with the declared zones appended, in the EC2 query protocol's XML."""
    zones = endpoint.extra_zones.get(region)
    if not zones:
        return resp
    status, reason, headers, data = resp
    # the ec2 model's member names: ZoneName → zoneName, State → zoneState (its locationName)
    names = {"State": "zoneState"}
    items = "".join(
        "<item>"
        + "".join(f"<{names.get(k, k[0].lower() + k[1:])}>{escape(v)}</{names.get(k, k[0].lower() + k[1:])}>"
                  for k, v in {"State": "available", "RegionName": region, **zone}.items())
        + "</item>"
        for zone in zones
    )  # fmt: skip
    text = data.decode()
    if "<availabilityZoneInfo/>" in text:
        text = text.replace("<availabilityZoneInfo/>", f"<availabilityZoneInfo>{items}</availabilityZoneInfo>")
    else:
        text = text.replace("</availabilityZoneInfo>", f"{items}</availabilityZoneInfo>", 1)
    body = text.encode()
    out = [(k, str(len(body)) if k.lower() == "content-length" else v) for k, v in headers]
    return status, reason, out, body


def _add_replicas(endpoint: AwsEndpoint, region: str | None, doc: dict[str, Any]) -> None:
    table = doc.get("Table", {})
    replicas = endpoint.dynamodb_replicas.get((region or "", table.get("TableName", "")))
    if replicas is None:
        return
    table["Replicas"] = [r if isinstance(r, dict) else {"RegionName": r, "ReplicaStatus": "ACTIVE"} for r in replicas]
    table["GlobalTableVersion"] = "2019.11.21"


def _override_origin(endpoint: AwsEndpoint, doc: dict[str, Any]) -> None:
    meta = doc.get("KeyMetadata", {})
    origin = endpoint.kms_origin_override.get(meta.get("KeyId", "")) or endpoint.kms_origin_override.get(
        meta.get("Arn", "")
    )
    if origin is None:
        return
    meta["Origin"] = origin
    if origin in ("EXTERNAL_KEY_STORE", "AWS_CLOUDHSM"):
        # Real DescribeKey names the custom key store such keys live in.
        meta.setdefault("CustomKeyStoreId", "cks-" + meta.get("KeyId", "0")[:17].replace("-", ""))
    if origin == "EXTERNAL_KEY_STORE":
        meta.setdefault("XksKeyConfiguration", {"Id": "xks-" + meta.get("KeyId", "")})


def _list_buckets(endpoint: AwsEndpoint, rec: RequestRecord, headers: list[tuple[str, str]]) -> _Response:
    split = urlsplit(rec.path)
    query = parse_qs(split.query, keep_blank_values=True)
    max_buckets = query.pop("max-buckets", [""])[0]
    token = query.pop("continuation-token", [""])[0]
    region_filter = query.pop("bucket-region", [""])[0]
    prefix = query.get("prefix", [""])[0]
    limit: int | None = None
    start_after = ""
    try:
        if max_buckets:
            limit = int(max_buckets)
            if not 1 <= limit <= 10000:
                raise ValueError(max_buckets)
        if token:
            start_after = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (ValueError, binascii.Error):
        return s3_error(400, "InvalidArgument", "Invalid max-buckets or continuation-token")
    cap = endpoint.list_buckets_page_cap
    if cap is not None and (limit is None or limit > cap):
        limit = cap

    # moto applies prefix itself; it would truncate on max-buckets without a token, so page here.
    path = split.path + ("?" + urlencode(query, doseq=True) if query else "")
    status, reason, resp_headers, data = endpoint.upstream("GET", path, headers, b"")
    if status != 200:
        return status, reason, resp_headers, data
    root = ET.fromstring(data)
    ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    buckets = sorted(
        (b.findtext(f"{ns}Name") or "", b.findtext(f"{ns}CreationDate") or "") for b in root.iter(f"{ns}Bucket")
    )
    buckets = [b for b in buckets if b[0] > start_after]
    regions: dict[str, str | None] = {}
    if region_filter:
        regions = {name: _bucket_region(endpoint, name, headers) for name, _ in buckets}
        buckets = [b for b in buckets if regions[b[0]] == region_filter]
    page = buckets[:limit] if limit else buckets
    next_token = ""
    if limit and len(buckets) > limit:
        next_token = base64.urlsafe_b64encode(page[-1][0].encode()).decode().rstrip("=")

    owner = root.find(f"{ns}Owner")
    out = [f'<?xml version="1.0" encoding="UTF-8"?>\n<ListAllMyBucketsResult xmlns="{_S3_NS}"><Buckets>']
    for name, created in page:
        out.append(f"<Bucket><Name>{escape(name)}</Name><CreationDate>{escape(created)}</CreationDate>")
        if endpoint.list_buckets_region:
            region = regions[name] if name in regions else _bucket_region(endpoint, name, headers)
            if region:  # None only if the bucket vanished since moto listed it
                out.append(f"<BucketRegion>{escape(region)}</BucketRegion>")
        out.append("</Bucket>")
    out.append("</Buckets>")
    if owner is not None:
        out.append(
            f"<Owner><ID>{escape(owner.findtext(f'{ns}ID') or '')}</ID>"
            f"<DisplayName>{escape(owner.findtext(f'{ns}DisplayName') or '')}</DisplayName></Owner>"
        )
    if next_token:
        out.append(f"<ContinuationToken>{escape(next_token)}</ContinuationToken>")
    if prefix:
        out.append(f"<Prefix>{escape(prefix)}</Prefix>")
    out.append("</ListAllMyBucketsResult>")
    keep = [(k, v) for k, v in resp_headers if k.lower() not in ("content-type", "content-length")]
    return 200, "OK", [*keep, ("Content-Type", "application/xml")], "".join(out).encode()


def _bucket_region(endpoint: AwsEndpoint, name: str, headers: list[tuple[str, str]]) -> str | None:
    """The region a bucket lives in, as ListBuckets' BucketRegion reports it; ``None`` if no such bucket."""
    try:
        # In-process and always current, so no cache to go stale when a test recreates a bucket.
        from moto.s3.models import s3_backends

        known = s3_backends.bucket_accounts
    except (ImportError, AttributeError):
        # moto's internals moved: ask over HTTP with the caller's own signature (moto picks the account from it).
        status, _, _, data = endpoint.upstream("GET", f"/{name}?location", headers, b"")
        if status != 200:
            return None
        return _region_of(ET.fromstring(data).text)
    if name not in known:
        return None
    partition, account = known[name]
    bucket = s3_backends[account][partition].buckets.get(name)
    return None if bucket is None else _region_of(bucket.region_name)


def _s3_redirect(endpoint: AwsEndpoint, rec: RequestRecord, headers: list[tuple[str, str]]) -> _Response | None:
    """Real S3's 301 for a bucket addressed through another region; botocore re-signs and retries."""
    bucket = urlsplit(rec.path).path.lstrip("/").partition("/")[0]
    if not bucket or rec.action in ("CreateBucket", "GetBucketLocation", "ListBuckets"):
        return None
    region = _bucket_region(endpoint, bucket, headers)
    if region is None or region == rec.region:
        return None
    status, reason, resp_headers, body = s3_error(
        301,
        "PermanentRedirect",
        "The bucket you are attempting to access must be addressed using the specified endpoint.",
        f"<Endpoint>{escape(bucket)}.s3.{escape(region)}.amazonaws.com</Endpoint><Bucket>{escape(bucket)}</Bucket>",
    )
    return status, reason, [*resp_headers, ("x-amz-bucket-region", region)], body


def _region_of(location: str | None) -> str:
    """A region code from GetBucketLocation's legacy spellings: null is us-east-1, "EU" is eu-west-1."""
    if not location:
        return "us-east-1"
    return "eu-west-1" if location == "EU" else location


def _edit_json(resp: _Response, edit: Callable[[dict[str, Any]], None]) -> _Response:
    """Apply ``edit`` to a JSON response body, keeping DynamoDB's CRC32 header valid."""
    status, reason, headers, data = resp
    doc = json.loads(data)
    edit(doc)
    body = json.dumps(doc).encode()
    out = []
    for k, v in headers:
        if k.lower() == "x-amz-crc32":
            # botocore checks this for DynamoDB and retries on mismatch.
            v = str(zlib.crc32(body))
        out.append((k, v))
    return status, reason, out, body
