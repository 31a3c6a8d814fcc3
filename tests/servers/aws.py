"""A local AWS endpoint: moto's server behind a small proxy that adds what moto 5.2 lacks.

boto3 talks to the proxy over real HTTP (``AWS_ENDPOINT_URL``); nothing in boto3 is patched. The proxy

* completes S3 ListBuckets: ``BucketRegion`` per bucket, ``max-buckets``/``continuation-token`` paging and the
  ``bucket-region`` filter (real S3 has all three since 2024; moto truncates without a token);
* reports DynamoDB global-table replicas declared by the test (moto has no replicas);
* can make KMS DescribeKey report another key origin;
* answers Resource Explorer 2 and Config aggregator calls from moto's state (tests/servers/aws_inventory.py);
* injects faults (errors in each protocol's wire shape, connection resets, hangs, truncated bodies) and latency;
* counts and logs every request by service, region and action.

Seeding helpers at the end write through boto3 straight to moto; the tool under test never writes.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import http.client
import json
import logging
import os
import re
import select
import socket
import struct
import sys
import tempfile
import threading
import time
import uuid
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Literal, NamedTuple
from urllib.parse import parse_qs, urlencode, urlsplit
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

from . import aws_graph, aws_inventory
from .base import Endpoint, FaultMode

if TYPE_CHECKING:
    import boto3

__all__ = [
    "DEFAULT_ACCOUNT",
    "AwsEndpoint",
    "Fault",
    "RequestRecord",
    "copy_recovery_point",
    "seed_backup_vault",
    "seed_bucket",
    "seed_db_instance",
    "seed_file_system",
    "seed_global_table",
    "seed_kms_key",
    "seed_local_zone_db",
    "seed_multi_region_key",
    "seed_organization",
    "seed_redshift_cluster",
    "seed_repository",
    "seed_secret",
    "seed_table",
    "seed_volume",
]


#: The account moto assigns to any access key it did not issue itself.
DEFAULT_ACCOUNT = "123456789012"
ACCESS_KEY = "testing"
SECRET_KEY = "testing"

_S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"
_SCOPE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "expect",
        "content-length",
    }
)
# Bucket sub-resources → operation name without the verb; enough to name every call the tool makes.
_S3_BUCKET_SUBRESOURCES = {
    "location": "BucketLocation",
    "replication": "BucketReplication",
    "encryption": "BucketEncryption",
    "tagging": "BucketTagging",
    "versioning": "BucketVersioning",
    "policyStatus": "BucketPolicyStatus",
    "policy": "BucketPolicy",
    "acl": "BucketAcl",
    "lifecycle": "BucketLifecycleConfiguration",
    "cors": "BucketCors",
    "logging": "BucketLogging",
    "website": "BucketWebsite",
    "notification": "BucketNotificationConfiguration",
    "ownershipControls": "BucketOwnershipControls",
    "publicAccessBlock": "PublicAccessBlock",
    "object-lock": "ObjectLockConfiguration",
    "accelerate": "BucketAccelerateConfiguration",
    "requestPayment": "BucketRequestPayment",
    "intelligent-tiering": "BucketIntelligentTieringConfiguration",
    "inventory": "BucketInventoryConfiguration",
    "metrics": "BucketMetricsConfiguration",
    "analytics": "BucketAnalyticsConfiguration",
}
_S3_OBJECT_SUBRESOURCES = {
    "tagging": "ObjectTagging",
    "acl": "ObjectAcl",
    "retention": "ObjectRetention",
    "legal-hold": "ObjectLegalHold",
    "attributes": "ObjectAttributes",
}
_VERBS = {"GET": "Get", "PUT": "Put", "DELETE": "Delete", "HEAD": "Head", "POST": "Post"}

_Response = tuple[int, str, list[tuple[str, str]], bytes]


class RequestRecord(NamedTuple):
    """One request as the proxy saw it; ``service``/``region`` come from the SigV4 credential scope."""

    service: str | None
    region: str | None
    action: str | None
    method: str
    path: str


@dataclass
class Fault:
    """A fault rule; ``None`` in service/region/action matches anything. ``hits`` counts firings."""

    service: str | None = None
    region: str | None = None
    action: str | None = None
    status: int = 403
    code: str = "AccessDenied"
    message: str = "Injected fault"
    times: int | None = None
    delay: float = 0.0
    mode: FaultMode = "error"
    hits: int = 0
    #: only requests whose User-Agent contains this (e.g. ``app/NAME`` from AWS_SDK_UA_APP_ID): several scans side
    #: by side on one endpoint, each meeting its own faults
    agent: str | None = None

    def matches(self, rec: RequestRecord, agent: str = "") -> bool:
        """Whether this rule applies to ``rec`` (ignoring how many firings are left)."""
        return (
            (self.agent is None or self.agent in agent)
            and (self.service is None or self.service == rec.service)
            and (self.region is None or self.region == rec.region)
            and (self.action is None or self.action == rec.action)
        )


class AwsEndpoint(Endpoint):
    """moto on one port, our proxy on another; use as a context manager or call start()/stop().

    Mutable switches, read on every request: ``latency`` (seconds added to each proxied request),
    ``list_buckets_region`` (inject ``BucketRegion``), ``s3_region_redirects``, ``dynamodb_replicas`` and
    ``kms_origin_override``. ``url`` is the proxy (for ``AWS_ENDPOINT_URL``), ``moto_url`` moto itself.
    """

    def __init__(self, *, latency: float = 0.0) -> None:
        super().__init__()
        self.latency = latency
        self.list_buckets_region = True
        #: Largest ListBuckets page the server returns, whatever max-buckets asks (the API lets a server return
        #: fewer): tests the tool's ContinuationToken paging without seeding 10,000 buckets. None: no cap.
        self.list_buckets_page_cap: int | None = None
        #: Answer S3 bucket requests signed for a region other than the bucket's with real S3's 301 redirect.
        self.s3_region_redirects = False
        #: (region, table name) → replica regions (or full replica dicts) DescribeTable reports there.
        self.dynamodb_replicas: dict[tuple[str, str], list[str | dict[str, Any]]] = {}
        #: key id or key ARN → the Origin DescribeKey reports.
        self.kms_origin_override: dict[str, str] = {}
        #: region → Local Zones, Wavelength Zones or Outposts DescribeAvailabilityZones adds there (moto has only the
        #: region's own zones): each a dict of the botocore ec2 model's AvailabilityZone fields (ZoneName, ZoneType…)
        self.extra_zones: dict[str, list[dict[str, str]]] = {}
        #: region → EFS replication configurations (botocore efs model's ReplicationConfigurationDescription) that
        #: DescribeReplicationConfigurations answers there (moto has no EFS replication); their destinations' file
        #: systems are reported with ReplicationOverwriteProtection REPLICATING
        self.efs_replications: dict[str, list[dict[str, Any]]] = {}
        #: (region, vault name) → recovery points (botocore backup model's RecoveryPointByBackupVault) that
        #: ListRecoveryPointsByBackupVault answers (moto has none), counted in ListBackupVaults' NumberOfRecoveryPoints
        self.recovery_points: dict[tuple[str, str], list[dict[str, Any]]] = {}
        #: Resource Explorer indexes and Config aggregators (tests/servers/aws_inventory.py)
        self.inventory = aws_inventory.AwsInventory()
        #: DocumentDB clusters and the other stores moto lacks (tests/servers/aws_graph.py)
        self.graph = aws_graph.GraphState()
        self.url = ""
        self.moto_url = ""
        self._counts: Counter[tuple[str | None, str | None]] = Counter()
        self._accepted = 0
        self._moto: Any = None
        self._proxy: _ProxyServer | None = None
        self._proxy_thread: threading.Thread | None = None
        self._loader: Any = None

    # -- lifecycle -------------------------------------------------------------------------------------------------

    def start(self) -> AwsEndpoint:
        """Start moto and the proxy on free 127.0.0.1 ports."""
        # Read by moto when the EC2 backend is first built; the default AMI catalogue costs seconds per region.
        os.environ["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"
        werkzeug_log = logging.getLogger("werkzeug")
        if werkzeug_log.level == logging.NOTSET:
            # Otherwise werkzeug attaches its own handler and prints a line per request to stderr.
            werkzeug_log.setLevel(logging.WARNING)
        from moto.server import ThreadedMotoServer

        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._moto.start()
        host, port = self._moto.get_host_and_port()
        self.moto_url = f"http://{host}:{port}"
        self._proxy = _ProxyServer(self)
        self.url = f"http://127.0.0.1:{self._proxy.server_address[1]}"
        # A short poll keeps stop() quick; the loop only checks for shutdown between accepts.
        self._proxy_thread = threading.Thread(
            target=self._proxy.serve_forever, kwargs={"poll_interval": 0.05}, name="aws-proxy", daemon=True
        )
        self._proxy_thread.start()
        self._tmp = tempfile.mkdtemp(prefix="aws-endpoint-")
        for name, url in (("proxy", self.url), ("moto", self.moto_url)):
            with open(os.path.join(self._tmp, name + ".ini"), "w", encoding="utf-8") as f:
                f.write(f"[default]\nendpoint_url = {url}\n")
        return self

    def stop(self) -> None:
        """Stop the proxy (dropping open client connections) and moto."""
        if self._proxy is not None:
            self._proxy.stopping.set()
            self._proxy.shutdown()
            self._proxy.close_all()
            self._proxy.server_close()
            self._proxy = None
        if self._moto is not None:
            self._moto.stop()
            self._moto = None
        super().stop()  # the temporary directory

    def reset(self) -> None:
        """Back to a freshly started endpoint: empty moto, empty log, no faults, no latency, default switches."""
        conn = http.client.HTTPConnection(*self._moto_address(), timeout=30)
        try:
            conn.request("POST", "/moto-api/reset")
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                raise RuntimeError(f"moto reset failed: HTTP {resp.status}")
        finally:
            conn.close()
        self.clear_faults()
        self.clear_log()
        self.latency = 0.0
        self.list_buckets_region = True
        self.list_buckets_page_cap = None
        self.s3_region_redirects = False
        self.dynamodb_replicas.clear()
        self.kms_origin_override.clear()
        self.extra_zones.clear()
        self.efs_replications.clear()
        self.recovery_points.clear()
        self.inventory.reset()
        self.graph.reset()

    # -- configuration for child processes and in-process clients ----------------------------------------------

    def env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """Environment for a child process: ``base`` minus every ``AWS_*`` variable, plus ours."""
        out = {k: v for k, v in (base or {}).items() if not k.startswith("AWS_")}
        out.update(
            {
                "AWS_ENDPOINT_URL": self.url,
                "AWS_ACCESS_KEY_ID": ACCESS_KEY,
                "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                "AWS_DEFAULT_REGION": "us-east-1",
                # Never read the developer's own profiles, and never probe instance metadata.
                "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                "AWS_EC2_METADATA_DISABLED": "true",
                "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
            }
        )
        return out

    def session(
        self,
        region: str = "us-east-1",
        *,
        credentials: Mapping[str, str] | None = None,
        direct: bool = False,
    ) -> boto3.Session:
        """A fresh boto3 session whose clients use the proxy (or moto itself if ``direct``).

        ``credentials`` takes the ``Credentials`` dict of an STS response; the default keys map to
        :data:`DEFAULT_ACCOUNT`. The developer's ``~/.aws`` files are never read.
        """
        import boto3
        import botocore.loaders
        import botocore.session

        if self._tmp is None:
            raise RuntimeError("endpoint not started")
        bs = botocore.session.Session()
        if self._loader is None:
            self._loader = botocore.loaders.create_loader()
        # Parsed service models are cached per loader; sharing one saves ~0.1-0.3 s per client (EC2's is big).
        bs.register_component("data_loader", self._loader)
        bs.set_config_variable("config_file", os.path.join(self._tmp, "moto.ini" if direct else "proxy.ini"))
        bs.set_config_variable("credentials_file", os.devnull)
        creds = credentials or {"AccessKeyId": ACCESS_KEY, "SecretAccessKey": SECRET_KEY}
        return boto3.Session(
            botocore_session=bs,
            region_name=region,
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds.get("SessionToken"),
        )

    def client(self, service: str, region: str = "us-east-1", *, direct: bool = False, **kwargs: Any) -> Any:
        """Shortcut for ``session(region, direct=direct).client(service, **kwargs)``."""
        return self.session(region, direct=direct).client(service, **kwargs)

    def member_session(
        self,
        account_id: str,
        *,
        role_name: str = "OrganizationAccountAccessRole",
        region: str = "us-east-1",
        direct: bool = False,
    ) -> boto3.Session:
        """A session with credentials from STS AssumeRole into ``account_id`` (moto trusts any role)."""
        sts = self.client("sts", region, direct=True)
        creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/{role_name}", RoleSessionName="harness")
        return self.session(region, credentials=creds["Credentials"], direct=direct)

    def declare_global_table(self, name: str, regions: Sequence[str]) -> None:
        """Make DescribeTable in each of ``regions`` report the others as ACTIVE replicas."""
        for region in regions:
            self.dynamodb_replicas[(region, name)] = [r for r in regions if r != region]

    # -- faults and the request log ------------------------------------------------------------------------------

    def add_fault(
        self,
        service: str | None = None,
        region: str | None = None,
        action: str | None = None,
        *,
        status: int = 403,
        code: str = "AccessDenied",
        message: str = "Injected fault",
        times: int | None = None,
        delay: float = 0.0,
        mode: FaultMode = "error",
        agent: str | None = None,
    ) -> Fault:
        """Add a fault rule; the first live matching rule wins.

        ``mode``: ``error`` answers ``status`` with an error body in the request's protocol; ``reset`` drops the
        connection with a TCP RST; ``timeout`` holds the request ``delay`` seconds (0: until the client gives up) and
        closes without answering; ``truncate`` forwards, then sends half the body; ``malformed`` forwards, then
        answers 200 with a body cut short of valid JSON/XML (and no checksum header). For the others ``delay`` is
        waited first. ``times`` limits how often the rule fires (``None``: forever).
        """
        fault = Fault(service, region, action, status, code, message, times, delay, mode, agent=agent)
        return self._add_fault(fault, mode)

    def clear_log(self) -> None:
        """Forget counted and logged requests."""
        with self._lock:
            self._counts.clear()
            self._requests.clear()
            self._accepted = 0

    @property
    def counts(self) -> Counter[tuple[str | None, str | None]]:
        """A snapshot: requests per (service, action), retries included."""
        with self._lock:
            return Counter(self._counts)

    @property
    def connections_accepted(self) -> int:
        """Client TCP connections the proxy accepted since the last reset (keep-alive keeps this low)."""
        with self._lock:
            return self._accepted

    # -- internals used by the proxy -------------------------------------------------------------------------------

    def _moto_address(self) -> tuple[str, int]:
        split = urlsplit(self.moto_url)
        return split.hostname or "127.0.0.1", split.port or 80

    def _note_connection(self) -> None:
        with self._lock:
            self._accepted += 1

    def _record(self, rec: RequestRecord, agent: str = "") -> Fault | None:
        """Log ``rec`` and consume the first live matching fault, atomically so ``times`` is exact."""
        with self._lock:
            self._requests.append(rec)
            self._counts[(rec.service, rec.action)] += 1
            for fault in self._faults:
                if fault.matches(rec, agent) and (fault.times is None or fault.hits < fault.times):
                    fault.hits += 1
                    return fault
        return None

    def _upstream(self, method: str, path: str, headers: list[tuple[str, str]], body: bytes) -> _Response:
        # moto's werkzeug server closes every connection, so there is nothing to pool.
        conn = http.client.HTTPConnection(*self._moto_address(), timeout=120)
        try:
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for name, value in headers:
                conn.putheader(name, value)
            if body or method in ("POST", "PUT", "PATCH"):
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body or None)
            resp = conn.getresponse()
            return resp.status, resp.reason, resp.getheaders(), resp.read()
        finally:
            conn.close()

    def _forward(self, rec: RequestRecord, headers: list[tuple[str, str]], body: bytes) -> _Response:
        if self.inventory.handles(rec.service, rec.action):
            return aws_inventory.run(self.inventory, rec.service, rec.region, rec.action, body)
        if rec.service == "s3" and rec.action == "ListBuckets" and rec.method == "GET":
            return self._list_buckets(rec, headers)
        if rec.service == "s3" and self.s3_region_redirects:
            redirect = self._s3_redirect(rec, headers)
            if redirect is not None:
                return redirect
        if rec.service == "elasticfilesystem" and rec.action == "DescribeReplicationConfigurations":
            return self._efs_replications(rec)
        if (answer := self.graph.answer(rec.service, rec.action, body, rec.region)) is not None:
            return answer
        if rec.service == "backup" and rec.action == "ListRecoveryPointsByBackupVault":
            vault = urlsplit(rec.path).path.split("/")[2]
            doc = {"RecoveryPoints": self.recovery_points.get((rec.region or "", vault), [])}
            return 200, "OK", [("Content-Type", "application/json")], json.dumps(doc).encode()
        resp = self.graph.edit(rec.service, rec.region, rec.action, self._upstream(rec.method, rec.path, headers, body))
        if rec.service == "s3":
            # moto keeps "EU" as the region of buckets created with that constraint; S3 headers carry region codes.
            status, reason, resp_headers, data = resp
            fixed = [
                (k, "eu-west-1" if k.lower() == "x-amz-bucket-region" and v == "EU" else v) for k, v in resp_headers
            ]
            return status, reason, fixed, data
        if resp[0] == 200 and rec.service == "dynamodb" and rec.action == "DescribeTable":
            return _edit_json(resp, lambda doc: self._add_replicas(rec.region, doc))
        if resp[0] == 200 and rec.service == "kms" and rec.action == "DescribeKey":
            return _edit_json(resp, self._override_origin)
        if resp[0] == 200 and rec.service == "backup" and rec.action == "ListBackupVaults":
            return _edit_json(resp, lambda doc: self._count_points(rec.region or "", doc))
        if resp[0] == 200 and rec.service == "elasticfilesystem" and rec.action == "DescribeFileSystems":
            return _edit_json(resp, self._efs_protection)
        if resp[0] == 200 and rec.service == "ec2" and rec.action == "DescribeAvailabilityZones":
            return self._add_zones(rec.region or "", resp)
        return resp

    def _efs_replications(self, rec: RequestRecord) -> _Response:
        """DescribeReplicationConfigurations (REST-JSON): the region's configurations, or those of one file system."""
        wanted = parse_qs(urlsplit(rec.path).query).get("FileSystemId", [None])[0]
        found = []
        for region, configs in self.efs_replications.items():
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

    def _count_points(self, region: str, doc: dict[str, Any]) -> None:
        for vault in doc.get("BackupVaultList", []):
            vault["NumberOfRecoveryPoints"] = len(self.recovery_points.get((region, vault["BackupVaultName"]), []))

    def _efs_protection(self, doc: dict[str, Any]) -> None:
        replicas = {
            d.get("FileSystemId")
            for configs in self.efs_replications.values()
            for config in configs
            for d in config.get("Destinations", [])
        }
        for fs in doc.get("FileSystems", []):
            state = "REPLICATING" if fs.get("FileSystemId") in replicas else "ENABLED"
            fs["FileSystemProtection"] = {"ReplicationOverwriteProtection": state}

    def _add_zones(self, region: str, resp: _Response) -> _Response:
        """DescribeAvailabilityZones with the declared zones appended, in the EC2 query protocol's XML."""
        zones = self.extra_zones.get(region)
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

    def _add_replicas(self, region: str | None, doc: dict[str, Any]) -> None:
        table = doc.get("Table", {})
        replicas = self.dynamodb_replicas.get((region or "", table.get("TableName", "")))
        if replicas is None:
            return
        table["Replicas"] = [
            r if isinstance(r, dict) else {"RegionName": r, "ReplicaStatus": "ACTIVE"} for r in replicas
        ]
        table["GlobalTableVersion"] = "2019.11.21"

    def _override_origin(self, doc: dict[str, Any]) -> None:
        meta = doc.get("KeyMetadata", {})
        origin = self.kms_origin_override.get(meta.get("KeyId", "")) or self.kms_origin_override.get(
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

    def _list_buckets(self, rec: RequestRecord, headers: list[tuple[str, str]]) -> _Response:
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
            return _s3_error(400, "InvalidArgument", "Invalid max-buckets or continuation-token")
        cap = self.list_buckets_page_cap
        if cap is not None and (limit is None or limit > cap):
            limit = cap

        # moto applies prefix itself; it would truncate on max-buckets without a token, so page here.
        path = split.path + ("?" + urlencode(query, doseq=True) if query else "")
        status, reason, resp_headers, data = self._upstream("GET", path, headers, b"")
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
            regions = {name: self._bucket_region(name, headers) for name, _ in buckets}
            buckets = [b for b in buckets if regions[b[0]] == region_filter]
        page = buckets[:limit] if limit else buckets
        next_token = ""
        if limit and len(buckets) > limit:
            next_token = base64.urlsafe_b64encode(page[-1][0].encode()).decode().rstrip("=")

        owner = root.find(f"{ns}Owner")
        out = [f'<?xml version="1.0" encoding="UTF-8"?>\n<ListAllMyBucketsResult xmlns="{_S3_NS}"><Buckets>']
        for name, created in page:
            out.append(f"<Bucket><Name>{escape(name)}</Name><CreationDate>{escape(created)}</CreationDate>")
            if self.list_buckets_region:
                region = regions[name] if name in regions else self._bucket_region(name, headers)
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

    def _bucket_region(self, name: str, headers: list[tuple[str, str]]) -> str | None:
        """The region a bucket lives in, as ListBuckets' BucketRegion reports it; ``None`` if no such bucket."""
        try:
            # In-process and always current, so no cache to go stale when a test recreates a bucket.
            from moto.s3.models import s3_backends

            known = s3_backends.bucket_accounts
        except (ImportError, AttributeError):
            # moto's internals moved: ask over HTTP with the caller's own signature (moto picks the account from it).
            status, _, _, data = self._upstream("GET", f"/{name}?location", headers, b"")
            if status != 200:
                return None
            return _region_of(ET.fromstring(data).text)
        if name not in known:
            return None
        partition, account = known[name]
        bucket = s3_backends[account][partition].buckets.get(name)
        return None if bucket is None else _region_of(bucket.region_name)

    def _s3_redirect(self, rec: RequestRecord, headers: list[tuple[str, str]]) -> _Response | None:
        """Real S3's 301 for a bucket addressed through another region; botocore re-signs and retries."""
        bucket = urlsplit(rec.path).path.lstrip("/").partition("/")[0]
        if not bucket or rec.action in ("CreateBucket", "GetBucketLocation", "ListBuckets"):
            return None
        region = self._bucket_region(bucket, headers)
        if region is None or region == rec.region:
            return None
        status, reason, resp_headers, body = _s3_error(
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


def _s3_error(status: int, code: str, message: str, extra: str = "") -> _Response:
    rid = uuid.uuid4().hex[:16].upper()
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{escape(code)}</Code>'
        f"<Message>{escape(message)}</Message>{extra}<RequestId>{rid}</RequestId></Error>"
    )
    return (
        status,
        http.client.responses.get(status, ""),
        [
            ("Content-Type", "application/xml"),
            ("x-amz-request-id", rid),
        ],
        body.encode(),
    )


def _error_response(rec: RequestRecord, request_headers: Any, fault: Fault) -> _Response:
    """An error in the wire shape the request's protocol expects."""
    rest_json = aws_inventory.error_response(rec.service, fault.status, fault.code, fault.message)
    if rest_json is not None:
        return rest_json
    reason = http.client.responses.get(fault.status, "")
    rid = str(uuid.uuid4())
    code, message = escape(fault.code), escape(fault.message)
    if request_headers.get("X-Amz-Target") or rec.service in _REST_JSON:
        # JSON protocols (X-Amz-Target) and REST-JSON ones alike: the code in x-amzn-ErrorType and the body
        body = json.dumps({"__type": fault.code, "message": fault.message}).encode()
        ctype = request_headers.get("Content-Type") or "application/json"
        headers = [("Content-Type", ctype), ("x-amzn-ErrorType", fault.code), ("x-amzn-RequestId", rid)]
        return fault.status, reason, headers, body
    if rec.service == "s3":
        return _s3_error(fault.status, fault.code, fault.message)
    if rec.service == "ec2":
        xml = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>{code}</Code>'
            f"<Message>{message}</Message></Error></Errors><RequestID>{rid}</RequestID></Response>"
        )
    else:
        kind = "Sender" if fault.status < 500 else "Receiver"
        xml = (
            f"<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message></Error>"
            f"<RequestId>{rid}</RequestId></ErrorResponse>"
        )
    return fault.status, reason, [("Content-Type", "text/xml"), ("x-amzn-RequestId", rid)], xml.encode()


def _classify(method: str, raw_path: str, headers: Any, body: bytes) -> RequestRecord:
    """Service and region from the SigV4 scope; action from X-Amz-Target, ``Action=``, or S3's REST shape."""
    split = urlsplit(raw_path)
    query = parse_qs(split.query, keep_blank_values=True)
    service = region = None
    scope = _SCOPE.search(headers.get("Authorization") or "")
    if scope:
        region, service = scope.group(2), scope.group(3)
    elif "X-Amz-Credential" in query:
        parts = query["X-Amz-Credential"][0].split("/")
        if len(parts) == 5:
            region, service = parts[2], parts[3]
    elif split.path.startswith("/moto-api"):
        service = "moto-api"

    action: str | None = None
    target = headers.get("X-Amz-Target")
    if target:
        action = target.rsplit(".", 1)[-1]
    elif service == "s3":
        action = _s3_action(method, split.path, query, headers)
    elif rest := aws_inventory.action_of(service, split.path):
        action = rest
    elif "Action" in query:
        action = query["Action"][0]
    elif body and "x-www-form-urlencoded" in (headers.get("Content-Type") or ""):
        action = parse_qs(body.decode("utf-8", "replace")).get("Action", [None])[0]
    elif match := re.match(r"/service/[^/]+/operation/([^/?]+)", split.path):
        action = match.group(1)
    elif service in _REST_JSON:
        action = _rest_action(_REST_JSON[service], method, split.path)
    return RequestRecord(service, region, action, method, raw_path)


#: SigV4 signing name → botocore service model name, for the REST-JSON services whose operation is in the path.
_REST_JSON = {"backup": "backup", "elasticfilesystem": "efs", "es": "opensearch"}


@functools.cache
def _rest_routes(model_name: str) -> list[tuple[str, re.Pattern[str], str]]:
    """(method, path regex, operation) from the service model's requestUri templates, most literal first."""
    import botocore.session

    model = botocore.session.get_session().get_service_model(model_name)
    routes = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        template = http["requestUri"].split("?")[0]
        pattern = "[^/]+".join(re.escape(part) for part in re.split(r"\{[^}]+\}", template))
        routes.append((http["method"], re.compile(pattern.rstrip("/") + "/?$"), name))
    # a literal segment beats a placeholder: /backup/plans/ must not be read as /backup/plans/{id}
    routes.sort(key=lambda r: r[1].pattern.count("[^/]+"))
    return routes


def _rest_action(model_name: str, method: str, path: str) -> str | None:
    for verb, pattern, name in _rest_routes(model_name):
        if verb == method and pattern.match(path):
            return name
    return None


def _s3_action(method: str, path: str, query: dict[str, list[str]], headers: Any) -> str:
    if "x-id" in query:
        return query["x-id"][0]
    bucket, _, key = path.lstrip("/").partition("/")
    verb = _VERBS.get(method, method.title())
    if not bucket:
        return "ListBuckets" if method == "GET" else verb + "Service"
    if key:
        if method == "POST" and "uploads" in query:
            return "CreateMultipartUpload"
        if "uploadId" in query:
            return {"PUT": "UploadPart", "POST": "CompleteMultipartUpload", "DELETE": "AbortMultipartUpload"}.get(
                method, "ListParts"
            )
        for sub, name in _S3_OBJECT_SUBRESOURCES.items():
            if sub in query:
                return verb + name
        if method == "PUT" and headers.get("x-amz-copy-source"):
            return "CopyObject"
        return verb + "Object"
    if method == "GET" and "uploads" in query:
        return "ListMultipartUploads"
    if method == "GET" and "versions" in query:
        return "ListObjectVersions"
    if method == "POST" and "delete" in query:
        return "DeleteObjects"
    for sub, name in _S3_BUCKET_SUBRESOURCES.items():
        if sub in query:
            return verb + name
    if method == "GET":
        return "ListObjectsV2" if query.get("list-type") == ["2"] else "ListObjects"
    return {"HEAD": "HeadBucket", "PUT": "CreateBucket", "DELETE": "DeleteBucket"}.get(method, verb + "Bucket")


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    # Idle keep-alive connections must not make shutdown wait for them.
    block_on_close = False
    # The benchmark opens many connections at once; the default backlog of 5 drops SYNs (1 s retransmit).
    request_queue_size = 128

    def __init__(self, endpoint: AwsEndpoint) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.endpoint = endpoint
        self.stopping = threading.Event()
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # a client that gave up (its --timeout passed on a busy machine) and closed is no server error; anything else
        # is printed as before (in-process, onto the stderr the CLI's test runner captures)
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def track(self, conn: socket.socket, is_open: bool) -> None:
        with self._conns_lock:
            if is_open:
                self._conns.add(conn)
            else:
                self._conns.discard(conn)

    def close_all(self) -> None:
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; every body is read fully, so the stream stays in sync
    timeout = 300  # an idle keep-alive connection gives its thread back eventually
    server: _ProxyServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without this, Nagle + delayed ACK add ~40 ms per response.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, True)
        self.server.endpoint._note_connection()

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request logging; the endpoint keeps its own log."""

    def do_GET(self) -> None:
        """Handle any method the same way."""
        try:
            self._handle()
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (its read timeout, or a test's fault); nothing left to answer.
            self.close_connection = True

    do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    def _handle(self) -> None:
        endpoint = self.server.endpoint
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            return
        rec = _classify(self.command, self.path, self.headers, body)
        fault = endpoint._record(rec, self.headers.get("User-Agent") or "")
        if endpoint.latency > 0:
            time.sleep(endpoint.latency)
        if fault is not None and fault.mode != "timeout" and fault.delay > 0:
            time.sleep(fault.delay)
        if fault is not None and fault.mode == "error":
            self._send(_error_response(rec, self.headers, fault))
            return
        if fault is not None and fault.mode == "reset":
            self._reset()
            return
        if fault is not None and fault.mode == "timeout":
            self._hang(fault.delay)
            return
        headers = [(k, v) for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP]
        try:
            resp = endpoint._forward(rec, headers, body)
        except (OSError, http.client.HTTPException) as exc:
            resp = 502, "Bad Gateway", [("Content-Type", "text/plain")], f"moto unreachable: {exc}".encode()
        if fault is not None and fault.mode == "malformed":
            keep = [(k, v) for k, v in resp[2] if k.lower() != "x-amz-crc32"]
            garbage = b'{"TableNames": [' if self.headers.get("X-Amz-Target") else b"<Result><Items><Item><Name>"
            resp = 200, "OK", keep, garbage
        self._send(resp, truncate=fault is not None and fault.mode == "truncate")

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline(65537).split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, resp: _Response, *, truncate: bool = False) -> None:
        status, reason, headers, data = resp
        self.send_response_only(status, reason or None)
        upstream_length = None
        for name, value in headers:
            if name.lower() == "content-length":
                upstream_length = value
            elif name.lower() not in _HOP_BY_HOP:
                self.send_header(name, value)
        if self.command == "HEAD":
            # http.client gives HEAD no body; the upstream length still describes the resource.
            self.send_header("Content-Length", upstream_length or "0")
            self.end_headers()
            return
        if truncate:
            self.send_header("Content-Length", str(max(len(data), 1)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.close_connection = True
            return
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _reset(self) -> None:
        # SO_LINGER 0 makes close() send RST instead of FIN: the client sees "connection reset by peer".
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def _hang(self, seconds: float) -> None:
        deadline = time.monotonic() + (seconds if seconds > 0 else 600)
        while time.monotonic() < deadline and not self.server.stopping.is_set():
            readable, _, _ = select.select([self.connection], [], [], 0.05)
            if readable:
                try:
                    if not self.connection.recv(1, socket.MSG_PEEK):
                        break  # the client gave up and closed
                except OSError:
                    break
                time.sleep(0.05)
        self.close_connection = True


# -- seeding (writes go straight to moto; pass a session from ``endpoint.session(direct=True)``) ----------------


def _account_of(session: boto3.Session) -> str:
    return str(session.client("sts").get_caller_identity()["Account"])


def seed_bucket(
    session: boto3.Session,
    name: str,
    region: str,
    replicate_to: Mapping[str, str] | Iterable[str] | None = None,
    kms_key_arn: str | None = None,
    sse: Literal["AES256", "aws:kms"] | None = "AES256",
    tags: Mapping[str, str] | None = None,
    replica_keys: Mapping[str, str] | None = None,
) -> str:
    """Create bucket ``name`` in ``region`` (``"EU"`` is sent as-is from us-east-1, as legacy clients did).

    ``replicate_to`` maps destination bucket → region, or lists regions (destination ``{name}-{region}``);
    destinations are created if missing and one replication rule per destination is added. ``sse`` sets default
    encryption (``aws:kms`` with ``kms_key_arn``); ``None`` leaves none configured. ``replica_keys`` maps a
    destination to the KMS key its rule re-encrypts SSE-KMS replicas with (``ReplicaKmsKeyID``). Returns ``name``.
    """
    create_region = "us-east-1" if region == "EU" else region
    s3 = session.client("s3", region_name=create_region)
    if region == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    if sse is not None:
        rule: dict[str, Any] = {"SSEAlgorithm": sse}
        if sse == "aws:kms" and kms_key_arn:
            rule["KMSMasterKeyID"] = kms_key_arn
        s3.put_bucket_encryption(
            Bucket=name,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": rule, "BucketKeyEnabled": sse == "aws:kms"}]
            },
        )
    if tags:
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]})
    if replicate_to:
        dests = dict(replicate_to) if isinstance(replicate_to, Mapping) else {f"{name}-{r}": r for r in replicate_to}
        existing = {b["Name"] for b in s3.list_buckets()["Buckets"]}
        rules = []
        for i, (dest, dest_region) in enumerate(dests.items(), start=1):
            if dest not in existing:
                seed_bucket(session, dest, dest_region, sse=None)
            # S3 requires versioning on both ends of a replication rule.
            session.client("s3", region_name=dest_region).put_bucket_versioning(
                Bucket=dest, VersioningConfiguration={"Status": "Enabled"}
            )
            rule = {
                "ID": f"to-{dest}",
                "Priority": i,
                "Filter": {},
                "Status": "Enabled",
                "DeleteMarkerReplication": {"Status": "Disabled"},
                "Destination": {"Bucket": f"arn:aws:s3:::{dest}"},
            }
            if replica_keys and dest in replica_keys:
                rule["SourceSelectionCriteria"] = {"SseKmsEncryptedObjects": {"Status": "Enabled"}}
                rule["Destination"]["EncryptionConfiguration"] = {"ReplicaKmsKeyID": replica_keys[dest]}
            rules.append(rule)
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        s3.put_bucket_replication(
            Bucket=name,
            ReplicationConfiguration={
                "Role": f"arn:aws:iam::{_account_of(session)}:role/s3-replication",
                "Rules": rules,
            },
        )
    return name


def seed_kms_key(session: boto3.Session, region: str, *, origin: str = "AWS_KMS", alias: str | None = None) -> str:
    """Create a symmetric KMS key (moto accepts any ``origin`` without a key store); returns its ARN."""
    kms = session.client("kms", region_name=region)
    meta = kms.create_key(Origin=origin, Description="seeded")["KeyMetadata"]
    if alias:
        kms.create_alias(AliasName=alias if alias.startswith("alias/") else "alias/" + alias, TargetKeyId=meta["KeyId"])
    return str(meta["Arn"])


def seed_table(session: boto3.Session, name: str, region: str, *, kms_key_arn: str | None = None) -> str:
    """Create an on-demand DynamoDB table with a string hash key ``pk``; returns its ARN."""
    kwargs: dict[str, Any] = {}
    if kms_key_arn:
        kwargs["SSESpecification"] = {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": kms_key_arn}
    table = session.client("dynamodb", region_name=region).create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        **kwargs,
    )
    return str(table["TableDescription"]["TableArn"])


def seed_global_table(endpoint: AwsEndpoint, session: boto3.Session, name: str, regions: Sequence[str]) -> list[str]:
    """A 2019.11.21 global table: the table in every region (moto) plus declared replicas (proxy); returns ARNs."""
    arns = [seed_table(session, name, region) for region in regions]
    endpoint.declare_global_table(name, regions)
    return arns


def seed_db_instance(
    session: boto3.Session,
    identifier: str,
    region: str,
    *,
    replica_regions: Sequence[str] = (),
    engine: str = "postgres",
    kms_key_arn: str | None = None,
    replica_kms_key_arns: Mapping[str, str] | None = None,
) -> str:
    """Create an RDS instance and a read replica ``{identifier}-{region}`` in each replica region; returns its ARN."""
    kwargs: dict[str, Any] = {}
    if kms_key_arn:
        kwargs.update(StorageEncrypted=True, KmsKeyId=kms_key_arn)
    db = session.client("rds", region_name=region).create_db_instance(
        DBInstanceIdentifier=identifier,
        Engine=engine,
        DBInstanceClass="db.t3.micro",
        MasterUsername="admin1",
        MasterUserPassword="seeded-password-1",
        AllocatedStorage=20,
        **kwargs,
    )["DBInstance"]
    for replica_region in replica_regions:
        session.client("rds", region_name=replica_region).create_db_instance_read_replica(
            DBInstanceIdentifier=f"{identifier}-{replica_region}",
            SourceDBInstanceIdentifier=db["DBInstanceArn"],
            # moto 5.2 otherwise copies the source's zone (eu-west-1a) into a replica in another region
            AvailabilityZone=f"{replica_region}a",
            # an encrypted source's cross-region replica is encrypted with a key of its own region
            **({"KmsKeyId": replica_kms_key_arns[replica_region]} if replica_kms_key_arns else {}),
        )
    return str(db["DBInstanceArn"])


def seed_volume(session: boto3.Session, region: str, *, size: int = 8, kms_key_arn: str | None = None) -> str:
    """Create an EBS volume in ``{region}a`` (encrypted when ``kms_key_arn`` is given); returns its id."""
    kwargs: dict[str, Any] = {"Encrypted": True, "KmsKeyId": kms_key_arn} if kms_key_arn else {}
    vol = session.client("ec2", region_name=region).create_volume(AvailabilityZone=region + "a", Size=size, **kwargs)
    return str(vol["VolumeId"])


def seed_organization(session: boto3.Session, account_names: Sequence[str]) -> list[str]:
    """Create an organization with the caller as management account plus one member per name; returns member ids."""
    org = session.client("organizations", region_name="us-east-1")
    org.create_organization(FeatureSet="ALL")
    ids = []
    for name in account_names:
        status = org.create_account(AccountName=name, Email=f"{name}@example.com")["CreateAccountStatus"]
        ids.append(str(status["AccountId"]))
    return ids


def seed_backup_vault(
    session: boto3.Session, name: str, region: str, *, copy_to: Sequence[str] = (), kms_key_arn: str | None = None
) -> str:
    """A backup vault and, for ``copy_to`` (destination vault ARNs), a plan whose rule backs up into it and copies
    each recovery point there; returns the vault's ARN."""
    backup = session.client("backup", region_name=region)
    kwargs: dict[str, Any] = {"EncryptionKeyArn": kms_key_arn} if kms_key_arn else {}
    arn = str(backup.create_backup_vault(BackupVaultName=name, **kwargs)["BackupVaultArn"])
    if copy_to:
        rule = {
            "RuleName": f"{name}-daily",
            "TargetBackupVaultName": name,
            "ScheduleExpression": "cron(0 5 ? * * *)",
            "CopyActions": [{"DestinationBackupVaultArn": dest} for dest in copy_to],
        }
        backup.create_backup_plan(BackupPlan={"BackupPlanName": f"{name}-plan", "Rules": [rule]})
    return arn


def seed_multi_region_key(session: boto3.Session, region: str, replicas: Sequence[str]) -> str:
    """A multi-Region KMS key with a replica in each of ``replicas``; returns the primary's ARN."""
    kms = session.client("kms", region_name=region)
    meta = kms.create_key(MultiRegion=True, Description="multi-region seeded")["KeyMetadata"]
    for replica in replicas:
        kms.replicate_key(KeyId=meta["KeyId"], ReplicaRegion=replica)
    return str(meta["Arn"])


def seed_secret(
    session: boto3.Session, name: str, region: str, *, replicas: Sequence[str] = (), kms_key_id: str | None = None
) -> str:
    """A secret (a dummy value) replicated to each of ``replicas``; returns its ARN."""
    kwargs: dict[str, Any] = {"KmsKeyId": kms_key_id} if kms_key_id else {}
    if replicas:
        kwargs["AddReplicaRegions"] = [{"Region": r} for r in replicas]
    out = session.client("secretsmanager", region_name=region).create_secret(Name=name, SecretString="x", **kwargs)
    return str(out["ARN"])


def seed_repository(
    session: boto3.Session, name: str, region: str, *, replicate_to: Sequence[str] = (), prefix: str | None = None
) -> str:
    """An ECR repository; with ``replicate_to``, the region's registry replicates (repositories starting with
    ``prefix``, or all) to those regions. Returns the repository's ARN."""
    ecr = session.client("ecr", region_name=region)
    arn = str(ecr.create_repository(repositoryName=name)["repository"]["repositoryArn"])
    if replicate_to:
        account = _account_of(session)
        rule: dict[str, Any] = {"destinations": [{"region": r, "registryId": account} for r in replicate_to]}
        if prefix is not None:
            rule["repositoryFilters"] = [{"filter": prefix, "filterType": "PREFIX_MATCH"}]
        ecr.put_replication_configuration(replicationConfiguration={"rules": [rule]})
    return arn


LIMA_ZONE = {
    "ZoneName": "us-east-1-lim-1a",
    "ZoneType": "local-zone",
    "GroupName": "us-east-1-lim-1",
    "ParentZoneName": "us-east-1a",
    "NetworkBorderGroup": "us-east-1-lim-1",
}


def seed_local_zone_db(
    endpoint: AwsEndpoint, session: boto3.Session, name: str, zone: dict[str, str] = LIMA_ZONE
) -> str:
    """An RDS instance in a Local Zone (declared to DescribeAvailabilityZones of its parent region); returns its ARN."""
    region = zone["ParentZoneName"][:-1]
    if zone not in endpoint.extra_zones.setdefault(region, []):
        endpoint.extra_zones[region].append(zone)
    db = session.client("rds", region_name=region).create_db_instance(
        DBInstanceIdentifier=name,
        Engine="postgres",
        DBInstanceClass="db.t3.micro",
        MasterUsername="admin1",
        MasterUserPassword="seeded-password-1",
        AllocatedStorage=20,
        AvailabilityZone=zone["ZoneName"],
    )["DBInstance"]
    return str(db["DBInstanceArn"])


def seed_redshift_cluster(
    session: boto3.Session, name: str, region: str, *, copy_to: str | None = None, kms_key_arn: str | None = None
) -> str:
    """A provisioned Redshift cluster, its snapshots copied to ``copy_to`` when given; returns its identifier."""
    redshift = session.client("redshift", region_name=region)
    kwargs: dict[str, Any] = {"Encrypted": True, "KmsKeyId": kms_key_arn} if kms_key_arn else {}
    redshift.create_cluster(
        ClusterIdentifier=name,
        NodeType="ra3.xlplus",
        MasterUsername="admin1",
        MasterUserPassword="Seeded-password-1",
        ClusterType="single-node",
        **kwargs,
    )
    if copy_to and kms_key_arn:
        # an encrypted cluster's copies need a grant for a key in the destination region (real Redshift and moto)
        grant = f"{name}-grant"
        session.client("redshift", region_name=copy_to).create_snapshot_copy_grant(SnapshotCopyGrantName=grant)
        redshift.enable_snapshot_copy(ClusterIdentifier=name, DestinationRegion=copy_to, SnapshotCopyGrantName=grant)
    elif copy_to:
        redshift.enable_snapshot_copy(ClusterIdentifier=name, DestinationRegion=copy_to)
    return name


def seed_file_system(
    endpoint: AwsEndpoint, session: boto3.Session, name: str, region: str, *, replicate_to: Sequence[str] = ()
) -> list[str]:
    """An EFS file system replicated to a new file system in each of ``replicate_to`` (declared to the proxy, whose
    DescribeReplicationConfigurations answers in the source region); returns the ARNs, source first."""

    def create(where: str, token: str) -> dict[str, Any]:
        fs: dict[str, Any] = session.client("efs", region_name=where).create_file_system(
            CreationToken=token, Tags=[{"Key": "Name", "Value": token}]
        )
        return fs

    source = create(region, name)
    dests = [(where, create(where, f"{name}-{where}")) for where in replicate_to]
    if dests:
        endpoint.efs_replications.setdefault(region, []).append(
            {
                "SourceFileSystemId": source["FileSystemId"],
                "SourceFileSystemRegion": region,
                "SourceFileSystemArn": source["FileSystemArn"],
                "OriginalSourceFileSystemArn": source["FileSystemArn"],
                "CreationTime": 1764400000,
                "Destinations": [
                    {"Status": "ENABLED", "FileSystemId": fs["FileSystemId"], "Region": where} for where, fs in dests
                ],
            }
        )
    return [str(source["FileSystemArn"]), *(str(fs["FileSystemArn"]) for _, fs in dests)]


def copy_recovery_point(endpoint: AwsEndpoint, source_vault_arn: str, dest_vault_arn: str) -> str:
    """Declare a recovery point copied from one vault into another (the destination lists it); returns its ARN."""
    region, account, name = dest_vault_arn.split(":")[3], dest_vault_arn.split(":")[4], dest_vault_arn.split(":")[-1]
    points = endpoint.recovery_points.setdefault((region, name), [])
    arn = f"arn:aws:ec2:{region}::snapshot/snap-{len(points):017d}"
    points.append(
        {
            "RecoveryPointArn": arn,
            "BackupVaultName": name,
            "BackupVaultArn": dest_vault_arn,
            "SourceBackupVaultArn": source_vault_arn,
            "ResourceArn": f"arn:aws:ec2:{source_vault_arn.split(':')[3]}:{account}:volume/vol-0123456789abcdef0",
            "ResourceType": "EBS",
            "Status": "COMPLETED",
            "CreationDate": 1764400000,
            "IsEncrypted": True,
        }
    )
    return arn
