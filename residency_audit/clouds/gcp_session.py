"""Google Cloud's shared state for one scan: credentials, one HTTP session, retried GETs, memoised lookups.

Credentials are Application Default Credentials (`google.auth.default`): `gcloud auth application-default login`,
a service-account key in GOOGLE_APPLICATION_CREDENTIALS, workload identity or the metadata server. The scope asked
for is `cloud-platform` because the Cloud SQL Admin and Cloud KMS APIs accept no read-only scope; what the
credential may do is still decided by its IAM roles, and this module only ever reads.

Clients. Cloud Storage uses the typed client (google-cloud-storage): its bucket objects already parse `location`,
`locationType`, `customPlacementConfig` and the default KMS key, and `list_buckets()` pages by itself. Every other
API goes through one `google.auth.transport.requests.AuthorizedSession` (plain REST on google-auth and requests,
which google-cloud-storage already brings; the storage client shares the session, so one token and one connection
pool serve the whole scan). The typed clients would add a dependency each with their gRPC/protobuf stacks and
import time, for GETs whose JSON is read directly here; they would make the same round trips.

Endpoints, for tests and private endpoints: STORAGE_EMULATOR_HOST points the storage client elsewhere (it then
sends no credentials: that is the client's own rule), and RESIDENCY_AUDIT_GCP_<API>_ENDPOINT (ENDPOINT_VARS)
replace the REST APIs' base URLs.

Every request has `options.timeout` seconds; transient failures (429, 5xx, connection errors) are retried with
backoff for at most twice that, so a dead endpoint costs seconds, not the storage client's default two minutes.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..model import KeyControl
from ..stores.common import Memo
from .gcp_errors import GcpCallError, _api_error, _root_cause, describe_error

SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
ENDPOINT_VARS = {
    "resourcemanager": ("RESIDENCY_AUDIT_GCP_RESOURCEMANAGER_ENDPOINT", "https://cloudresourcemanager.googleapis.com"),
    "bigquery": ("RESIDENCY_AUDIT_GCP_BIGQUERY_ENDPOINT", "https://bigquery.googleapis.com"),
    "sqladmin": ("RESIDENCY_AUDIT_GCP_SQLADMIN_ENDPOINT", "https://sqladmin.googleapis.com"),
    "kms": ("RESIDENCY_AUDIT_GCP_KMS_ENDPOINT", "https://cloudkms.googleapis.com"),
    "compute": ("RESIDENCY_AUDIT_GCP_COMPUTE_ENDPOINT", "https://compute.googleapis.com"),
    "secretmanager": ("RESIDENCY_AUDIT_GCP_SECRETMANAGER_ENDPOINT", "https://secretmanager.googleapis.com"),
    # regional secrets are served only by each location's own endpoint; {location} is filled in per call
    "secretmanager-rep": (
        "RESIDENCY_AUDIT_GCP_SECRETMANAGER_REP_ENDPOINT",
        "https://secretmanager.{location}.rep.googleapis.com",
    ),
    "logging": ("RESIDENCY_AUDIT_GCP_LOGGING_ENDPOINT", "https://logging.googleapis.com"),
    "pubsub": ("RESIDENCY_AUDIT_GCP_PUBSUB_ENDPOINT", "https://pubsub.googleapis.com"),
    "spanner": ("RESIDENCY_AUDIT_GCP_SPANNER_ENDPOINT", "https://spanner.googleapis.com"),
    "artifactregistry": ("RESIDENCY_AUDIT_GCP_ARTIFACTREGISTRY_ENDPOINT", "https://artifactregistry.googleapis.com"),
    "firestore": ("RESIDENCY_AUDIT_GCP_FIRESTORE_ENDPOINT", "https://firestore.googleapis.com"),
    "bigtableadmin": ("RESIDENCY_AUDIT_GCP_BIGTABLEADMIN_ENDPOINT", "https://bigtableadmin.googleapis.com"),
    "backupdr": ("RESIDENCY_AUDIT_GCP_BACKUPDR_ENDPOINT", "https://backupdr.googleapis.com"),
}
_RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
_MAX_ATTEMPTS = 5
_EXTERNAL_LEVELS = frozenset({"EXTERNAL", "EXTERNAL_VPC"})
# a location goes into a host name: only what Google's location ids look like (never a dot, slash or colon)
_LOCATION = re.compile(r"^[a-z][a-z0-9-]{0,62}$")


@dataclass(frozen=True)
class GcpOptions:
    """What to scan and how."""

    projects: tuple[str, ...] = ()  # empty: every ACTIVE project the credential can see (or the organization's)
    organization: str | None = None
    folder: str | None = None
    cloud_asset: bool = True  # Cloud Asset Inventory first, the per-service walk where it cannot answer
    services: tuple[str, ...] = ()  # empty: every service
    classification_label: str = "data-classification"
    concurrency: int = 16
    timeout: float = 30.0


class Gcp:
    """One scan's credentials, HTTP session, storage client and caches; safe to share between the pool's threads."""

    def __init__(self, options: GcpOptions) -> None:
        self.options = options
        self._lock = threading.Lock()
        self._session: Any = None
        self._storage: Any = None
        self._projects_seen: set[str] = set()
        self.keys = Memo(self._describe_key)
        self._memos: dict[str, Memo] = {}
        self.endpoints = {
            api: os.environ.get(var, default).rstrip("/") for api, (var, default) in ENDPOINT_VARS.items()
        }

    # credentials are loaded on first use, so a storage-emulator scan of named projects needs none
    def session(self) -> Any:
        """The authorised session (ADC), its token obtained once up front rather than by 16 threads at once."""
        with self._lock:
            if isinstance(self._session, BaseException):
                raise self._session  # tried once already: the same reason, without asking again
            if self._session is None:
                import google.auth
                from google.auth.transport.requests import AuthorizedSession, Request

                credentials: Any
                try:
                    credentials, _ = google.auth.default(scopes=list(SCOPES))
                    session: Any = AuthorizedSession(credentials)  # type: ignore[no-untyped-call]
                    _size_pool(session, self.options.concurrency)
                    credentials.refresh(Request())  # a plain transport: through `session` it would refresh twice
                except Exception as exc:
                    self._session = exc
                    raise
                self._session = session
            return self._session

    def storage(self) -> Any:
        """The Cloud Storage client (anonymous when STORAGE_EMULATOR_HOST is set, as the client itself decides)."""
        emulator = bool(os.environ.get("STORAGE_EMULATOR_HOST"))
        session = None if emulator else self.session()
        with self._lock:
            if self._storage is None:
                from google.cloud import storage

                if session is None:
                    import requests

                    http = requests.Session()
                    _size_pool(http, self.options.concurrency)
                    self._storage = storage.Client(project="residency-audit", _http=http)
                else:
                    # the same session as the REST calls: one token, one connection pool
                    self._storage = storage.Client(
                        project="residency-audit", credentials=session.credentials, _http=session
                    )
            return self._storage

    def storage_retry(self) -> Any:
        """The storage client's own retry policy, bounded by our timeout instead of its 120 s."""
        from google.cloud.storage.retry import DEFAULT_RETRY, _should_retry

        # the client's own predicate, plus a 200 whose JSON body does not parse (cut short on the way): retried too
        return (
            DEFAULT_RETRY.with_predicate(lambda exc: _should_retry(exc) or isinstance(exc, ValueError))
            .with_timeout(2 * self.options.timeout)
            .with_delay(initial=0.2, maximum=2.0)
        )

    def memo(self, name: str, fn: Any) -> Memo:
        """A scan-wide once-per-key cache named `name` (e.g. Spanner instance configurations, shared by projects)."""
        with self._lock:
            return self._memos.setdefault(name, Memo(fn))

    def claim(self, project: str) -> bool:
        """True the first time a project is met (from --project, a search or a folder), so it is scanned once."""
        with self._lock:
            if project in self._projects_seen:
                return False
            self._projects_seen.add(project)
            return True

    def get(
        self,
        api: str,
        path: str,
        operation: str,
        params: dict[str, str] | None = None,
        *,
        query: dict[str, Any] | None = None,
        location: str = "",
    ) -> dict[str, Any]:
        """GET one JSON document, retrying transient failures with backoff within twice the timeout.

        With `query`, the request is a POST of that body instead: only BigQuery's read-only metadata query
        (jobs.query on INFORMATION_SCHEMA, idempotent through its requestId) is ever sent this way. `location`
        fills in a regional endpoint's `{location}` (secretmanager.{location}.rep.googleapis.com).
        """
        import requests

        base = self.endpoints[api]
        if "{location}" in base:
            if not _LOCATION.match(location):
                raise GcpCallError(f"not a Google Cloud location: {location!r} ({operation})")
            base = base.replace("{location}", location)
        session = self.session()
        url = base + path
        deadline = time.monotonic() + 2 * self.options.timeout
        delay = 0.2
        for attempt in range(1, _MAX_ATTEMPTS + 1):
            last = attempt == _MAX_ATTEMPTS or time.monotonic() + delay >= deadline
            try:
                if query is not None:
                    resp = session.post(url, params=params, json=query, timeout=self.options.timeout)
                else:
                    resp = session.get(url, params=params, timeout=self.options.timeout)
                # a body cut short or not JSON is as transient as a dropped connection: retried alike
                body: dict[str, Any] = resp.json() if resp.status_code == 200 else {}
            except (
                requests.ConnectionError,
                requests.Timeout,
                requests.exceptions.ChunkedEncodingError,
                ValueError,
            ) as exc:
                if last:
                    if isinstance(exc, requests.Timeout):
                        what = "timed out"
                    elif isinstance(exc, requests.exceptions.ChunkedEncodingError):
                        what = "response cut short"
                    elif isinstance(exc, ValueError):
                        what = "malformed JSON response"
                    else:
                        what = "endpoint unreachable"
                    host = base.split("://")[-1]
                    cause = f"{type(exc).__name__}: {exc}" if isinstance(exc, ValueError) else _root_cause(exc)
                    raise GcpCallError(f"{what} on {operation} ({host}): {cause}") from exc
            else:
                if resp.status_code == 200:
                    return body
                if resp.status_code not in _RETRY_STATUS or last:
                    raise _api_error(operation, resp)
            time.sleep(delay)
            delay = min(delay * 2, 4.0)
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def pages(
        self,
        api: str,
        path: str,
        operation: str,
        items: str,
        params: dict[str, str] | None = None,
        location: str = "",
    ) -> Iterator[dict[str, Any]]:
        """Every item of a paged list (`pageToken` / `nextPageToken`)."""
        query = dict(params or {})
        while True:
            body = self.get(api, path, operation, query, location=location)
            yield from body.get(items, [])
            token = body.get("nextPageToken")
            if not token:
                return
            query["pageToken"] = token

    def _describe_key(self, name: str) -> tuple[KeyControl, str]:
        key = self.get("kms", "/v1/" + name, "cloudkms cryptoKeys.get")
        level = (key.get("primary") or {}).get("protectionLevel") or (key.get("versionTemplate") or {}).get(
            "protectionLevel", "?"
        )
        if level in _EXTERNAL_LEVELS:
            return KeyControl.EXTERNAL, f"Cloud KMS key {name} held outside Google (Cloud EKM, protection {level})"
        return KeyControl.CUSTOMER_MANAGED, f"customer-managed Cloud KMS key {name} (protection {level})"

    def key_control(self, key_name: str | None, default: tuple[KeyControl, str]) -> tuple[KeyControl, str]:
        """Key control of a CMEK key, read once per key; a key configured but unreadable is still customer-managed."""
        if not key_name:
            return default
        # a version name (…/cryptoKeyVersions/3) is read through its key: the protection level is the key's
        key_name = key_name.split("/cryptoKeyVersions/")[0]
        try:
            found: tuple[KeyControl, str] = self.keys.get(key_name)
            return found
        except Exception as exc:
            return (
                KeyControl.CUSTOMER_MANAGED,
                f"customer-managed Cloud KMS key {key_name}; whether it is held externally (EKM) is unknown:"
                f" the key could not be read ({describe_error(exc)})",
            )


def _size_pool(session: Any, concurrency: int) -> None:
    # requests' default pool keeps 10 connections per host: more threads than that would reconnect every time
    from requests.adapters import HTTPAdapter

    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(10, concurrency))
    session.mount("https://", adapter)
    session.mount("http://", adapter)
