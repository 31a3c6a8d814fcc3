"""A local AWS endpoint: moto's server behind a small proxy that adds what moto 5.2 lacks.

boto3 talks to the proxy over real HTTP (``AWS_ENDPOINT_URL``); nothing in boto3 is patched. The proxy

* completes S3 ListBuckets: ``BucketRegion`` per bucket, ``max-buckets``/``continuation-token`` paging and the
  ``bucket-region`` filter (real S3 has all three since 2024; moto truncates without a token);
* reports DynamoDB global-table replicas declared by the test (moto has no replicas);
* can make KMS DescribeKey report another key origin;
* answers Resource Explorer 2 and Config aggregator calls from moto's state (tests/servers/aws_inventory.py);
* injects faults (errors in each protocol's wire shape, connection resets, hangs, truncated bodies) and latency;
* counts and logs every request by service, region and action.

Its parts: this module (moto's lifecycle, sessions, the request log and faults), aws_proxy.py (the HTTP side),
aws_requests.py (naming a request; faults in each protocol's wire shape), aws_edits.py (what moto lacks, per service)
and aws_seed.py (seeding helpers that write through boto3 straight to moto, re-exported here; the tool under test
never writes).
"""

from __future__ import annotations

import http.client
import logging
import os
import tempfile
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from . import aws_caches, aws_copies, aws_edits, aws_graph, aws_inventory
from .aws_proxy import ProxyServer
from .aws_requests import Fault, RequestRecord
from .aws_seed import (
    copy_recovery_point,
    seed_backup_vault,
    seed_bucket,
    seed_db_instance,
    seed_file_system,
    seed_global_table,
    seed_kms_key,
    seed_local_zone_db,
    seed_multi_region_key,
    seed_organization,
    seed_redshift_cluster,
    seed_repository,
    seed_secret,
    seed_table,
    seed_volume,
)
from .aws_wire import _Response
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
        #: AMI fields, log subscriptions and backup policies moto lacks (tests/servers/aws_copies.py)
        self.copies = aws_copies.CopiesState()
        #: serverless caches and DocumentDB elastic clusters moto lacks (tests/servers/aws_caches.py)
        self.caches = aws_caches.CacheState()
        self.url = ""
        self.moto_url = ""
        self._counts: Counter[tuple[str | None, str | None]] = Counter()
        self._accepted = 0
        self._moto: Any = None
        self._proxy: ProxyServer | None = None
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
        self._proxy = ProxyServer(self)
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
        self.copies.reset()
        self.caches.reset()

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

    def upstream(self, method: str, path: str, headers: list[tuple[str, str]], body: bytes) -> _Response:
        """Send one request to moto itself and read its whole answer."""
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
        return aws_edits.forward(self, rec, headers, body)
