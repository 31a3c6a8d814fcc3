"""Google Cloud: credentials, projects, REST through one AuthorizedSession; the stores under stores/gcp/ read.

Read-only: every call is a GET (plus the OAuth token exchange). Credentials are Application Default Credentials
(`google.auth.default`): `gcloud auth application-default login`, a service-account key in
GOOGLE_APPLICATION_CREDENTIALS, workload identity or the metadata server. The scope asked for is `cloud-platform`
because the Cloud SQL Admin and Cloud KMS APIs accept no read-only scope; what the credential may do is still
decided by its IAM roles, and this module only ever reads.

Clients. Cloud Storage uses the typed client (google-cloud-storage): its bucket objects already parse `location`,
`locationType`, `customPlacementConfig` and the default KMS key, and `list_buckets()` pages by itself. Resource
Manager, BigQuery, Cloud SQL Admin and Cloud KMS use one `google.auth.transport.requests.AuthorizedSession` (plain
REST on google-auth and requests, which google-cloud-storage already brings; the storage client shares the session,
so one token and one connection pool serve the whole scan). Their typed clients (google-cloud-resource-manager,
google-cloud-bigquery, google-cloud-kms, and google-cloud-sql, still at 0.1) would add four dependencies with their
gRPC/protobuf stacks and import time, for five kinds of GET whose JSON is read directly here; they would make the
same round trips.

Round trips. One `buckets.list` page per 1,000 buckets, and a Cloud KMS `cryptoKeys.get` once per distinct key (a
bucket without a default KMS key needs nothing more, so only buckets with one become their own task). BigQuery's
`datasets.list` gives each dataset's location and labels but not its `defaultEncryptionConfiguration`, so each
dataset costs one `datasets.get` (its own task, run on the shared pool). Cloud SQL's `instances.list` carries
everything, replicas included: one call per page of instances. Projects come from `--project`, or Resource
Manager's `projects:search` (every ACTIVE project the credential can see), or, with `--organization`, a walk of
the organization's folders (`folders.list`) with one `projects:search` per folder (a search by `parent` matches
direct children only).

Endpoints, for tests and private endpoints: STORAGE_EMULATOR_HOST points the storage client elsewhere (it then
sends no credentials: that is the client's own rule), and these variables replace the REST APIs' base URLs:

    RESIDENCY_AUDIT_GCP_RESOURCEMANAGER_ENDPOINT   default https://cloudresourcemanager.googleapis.com
    RESIDENCY_AUDIT_GCP_BIGQUERY_ENDPOINT          default https://bigquery.googleapis.com
    RESIDENCY_AUDIT_GCP_SQLADMIN_ENDPOINT          default https://sqladmin.googleapis.com
    RESIDENCY_AUDIT_GCP_KMS_ENDPOINT               default https://cloudkms.googleapis.com
    RESIDENCY_AUDIT_GCP_<API>_ENDPOINT             COMPUTE, SECRETMANAGER, LOGGING, PUBSUB, SPANNER,
                                                   ARTIFACTREGISTRY, FIRESTORE, BIGTABLEADMIN, BACKUPDR (ENDPOINT_VARS)

An API that is off in a project answers 403 with a google.rpc.ErrorInfo whose reason is SERVICE_DISABLED: the
error names the API, so that service's task is one skip naming it, and the project's other services go on.

Every request has `options.timeout` seconds; transient failures (429, 5xx, connection errors) are retried with
backoff for at most twice that, so a dead endpoint costs seconds, not the storage client's default two minutes.
"""

from __future__ import annotations

import functools
import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from ..inventory import WALK, Found
from ..model import Copy, KeyControl, Provider, Resource, Skip
from ..pipeline import Task
from ..scan import SERVICES as ALL_SERVICES
from ..stores.common import CLIENT_SIDE_LABEL, Memo, declared_key_control, dedupe_places

SERVICES = ALL_SERVICES["gcp"]  # one list, in scan.py, so --help need not import this module
# service → (store module, its lister): each module under stores/gcp/ holds its live reader and its plan reader
WALKERS = {
    "gcs": ("gcs", "gcs_list"),
    "bigquery-dataset": ("bigquery", "bigquery_list"),
    "cloudsql-instance": ("cloudsql", "sql_list"),
    "compute-snapshot": ("compute", "snapshot_list"),
    "compute-image": ("compute", "image_list"),
    "compute-machine-image": ("compute", "machine_image_list"),
    "secret-manager": ("secrets", "secret_list"),
    "logging-bucket": ("logging", "log_bucket_list"),
    "pubsub-topic": ("pubsub", "topic_list"),
    "spanner-instance": ("spanner", "spanner_list"),
    "artifact-registry": ("artifacts", "repository_list"),
    "firestore-database": ("firestore", "database_list"),
    "bigtable-instance": ("bigtable", "instance_list"),
    "backupdr-vault": ("backupdr", "vault_list"),
}

SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
ENDPOINT_VARS = {
    "resourcemanager": ("RESIDENCY_AUDIT_GCP_RESOURCEMANAGER_ENDPOINT", "https://cloudresourcemanager.googleapis.com"),
    "bigquery": ("RESIDENCY_AUDIT_GCP_BIGQUERY_ENDPOINT", "https://bigquery.googleapis.com"),
    "sqladmin": ("RESIDENCY_AUDIT_GCP_SQLADMIN_ENDPOINT", "https://sqladmin.googleapis.com"),
    "kms": ("RESIDENCY_AUDIT_GCP_KMS_ENDPOINT", "https://cloudkms.googleapis.com"),
    "compute": ("RESIDENCY_AUDIT_GCP_COMPUTE_ENDPOINT", "https://compute.googleapis.com"),
    "secretmanager": ("RESIDENCY_AUDIT_GCP_SECRETMANAGER_ENDPOINT", "https://secretmanager.googleapis.com"),
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
ZONE = re.compile(r"^([a-z]+-[a-z]+\d+)-[a-z]$", re.IGNORECASE)  # us-central1-a → us-central1
_EXTERNAL_LEVELS = frozenset({"EXTERNAL", "EXTERNAL_VPC"})


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


def tasks(options: GcpOptions) -> Iterator[Task]:
    """The root task of a Google Cloud scan: it finds the projects and yields the rest."""
    gcp = Gcp(options)
    yield Task(Provider.GCP, "gcp", lambda: _start(gcp), describe_error)


class GcpCallError(Exception):
    """A call that failed, already described in one credential-free line."""


class GcpApiError(GcpCallError):
    """A Google API answered with an error: which call, the HTTP status and the API's own reason and message."""

    def __init__(self, operation: str, status: int, reason: str, message: str) -> None:
        super().__init__(f"{reason} on {operation} (HTTP {status}): {message}".rstrip(": "))
        self.operation = operation
        self.status = status
        self.reason = reason


def describe_error(exc: BaseException) -> str:
    """A one-line, credential-free reason for a failed Google Cloud call: no response body, redacted as logs are."""
    from ..logs import redact_reason

    return redact_reason(_describe_error(exc))


def _describe_error(exc: BaseException) -> str:
    if isinstance(exc, GcpCallError):
        return one_line(str(exc))
    from google.api_core import exceptions as api
    from google.auth import exceptions as auth

    if isinstance(exc, auth.DefaultCredentialsError):
        # google-auth's message names the file or the lookup that failed, never a key's content
        return one_line(
            "no usable Google Cloud credentials (run `gcloud auth application-default login`,"
            f" or set GOOGLE_APPLICATION_CREDENTIALS to a service-account key): {exc}"
        )
    if isinstance(exc, auth.RefreshError):
        # the token endpoint's answer names the error (invalid_grant, …); it never echoes a token or a key
        return one_line(f"could not obtain an access token: {exc.args[0] if exc.args else exc}")
    if isinstance(exc, api.RetryError):
        return one_line(f"gave up after retries: {describe_error(exc.cause) if exc.cause else exc}")
    if isinstance(exc, api.GoogleAPICallError):
        return one_line(f"{exc.reason or type(exc).__name__} (HTTP {exc.code}): {exc.message}")
    import requests

    if isinstance(exc, requests.Timeout):
        return one_line(f"timed out: {type(exc).__name__}")
    if isinstance(exc, requests.ConnectionError):
        return one_line(f"endpoint unreachable: {_root_cause(exc)}")
    return one_line(f"{type(exc).__name__}: {exc}")


def _root_cause(exc: BaseException) -> str:
    while exc.__context__ is not None and exc.__context__ is not exc:
        exc = exc.__context__
    return f"{type(exc).__name__}: {exc}"


def one_line(text: str, limit: int = 400) -> str:
    """`text` on one line, secrets masked, at most `limit` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- the scan's shared state: credentials, one HTTP session, memoised lookups ----------------------------------


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
    ) -> dict[str, Any]:
        """GET one JSON document, retrying transient failures with backoff within twice the timeout.

        With `query`, the request is a POST of that body instead: only BigQuery's read-only metadata query
        (jobs.query on INFORMATION_SCHEMA, idempotent through its requestId) is ever sent this way.
        """
        import requests

        session = self.session()
        url = self.endpoints[api] + path
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
                    host = self.endpoints[api].split("://")[-1]
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
        self, api: str, path: str, operation: str, items: str, params: dict[str, str] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every item of a paged list (`pageToken` / `nextPageToken`)."""
        query = dict(params or {})
        while True:
            body = self.get(api, path, operation, query)
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


def _api_error(operation: str, resp: Any) -> GcpApiError:
    """The API's error body ({"error": {"code", "status", "message"}}) as an exception; never the request's headers."""
    reason, message = resp.reason or "Error", ""
    try:
        err = resp.json().get("error", {})
        if isinstance(err, dict):
            reason = err.get("status") or (err.get("errors") or [{}])[0].get("reason") or reason
            message = str(err.get("message", ""))
            disabled = _service_disabled(err)
            if disabled:  # the API is off in this project: a skip naming the API, not a denial of the project
                reason, message = "SERVICE_DISABLED", f"the {disabled} API is not enabled in this project: {message}"
        else:  # OAuth-style {"error": "invalid_grant", "error_description": …}
            reason, message = str(err), str(resp.json().get("error_description", ""))
    except ValueError:
        message = resp.text[:200]
    return GcpApiError(operation, resp.status_code, reason, one_line(message, 300))


def _service_disabled(err: dict[str, Any]) -> str | None:
    """The API named by a google.rpc.ErrorInfo with reason SERVICE_DISABLED (HTTP 403), if the error has one."""
    for detail in err.get("details") or []:
        if isinstance(detail, dict) and detail.get("reason") == "SERVICE_DISABLED":
            service = (detail.get("metadata") or {}).get("service")
            return str(service) if service else "Google Cloud"
    return None


# --- projects ------------------------------------------------------------------------------------------------


def scope(project: str, service: str, *rest: str) -> str:
    """A skip scope under this account (or project): the parts joined by '/'."""
    return "/".join(("project", project, "service", service, *rest))


def _start(gcp: Gcp) -> Iterator[Task | Skip | Found]:
    options = gcp.options
    anonymous_only = (
        bool(os.environ.get("STORAGE_EMULATOR_HOST"))
        and tuple(options.services) == ("gcs",)
        and bool(options.projects)
        and not options.organization
    )
    if not anonymous_only:
        # credentials first: without them this root task is the one skip, not one per project and service
        gcp.session()
    if options.cloud_asset and not anonymous_only:
        from ..inventory import gcp_engines

        named = gcp_engines.scopes(options.organization, options.folder, options.projects)
        for cai_scope in named:
            yield gcp_engines.scope_task(gcp, cai_scope)
        if not named:
            yield from _search(gcp, "state:ACTIVE", cai=True)
        return
    for project in gcp.options.projects:
        if gcp.claim(project):
            yield from _project_tasks(gcp, project)
    if gcp.options.organization:
        org = gcp.options.organization
        org = org if org.startswith("organizations/") else f"organizations/{org}"
        yield Task(
            Provider.GCP,
            org.replace("organizations/", "organization/"),
            functools.partial(_container, gcp, org),
            describe_error,
        )
    if gcp.options.folder:
        folder = gcp.options.folder
        folder = folder if folder.startswith("folders/") else f"folders/{folder}"
        yield Task(
            Provider.GCP,
            folder.replace("folders/", "folder/"),
            functools.partial(_container, gcp, folder),
            describe_error,
        )
    if not gcp.options.projects and not gcp.options.organization and not gcp.options.folder:
        yield from _search(gcp, "state:ACTIVE")


def _search(gcp: Gcp, query: str, *, cai: bool = False) -> Iterator[Task | Found]:
    for project in gcp.pages(
        "resourcemanager", "/v3/projects:search", "resourcemanager projects.search", "projects", {"query": query}
    ):
        pid = project.get("projectId")
        # a project pending deletion is not scanned (its services are shut down)
        if not pid or project.get("state", "ACTIVE") != "ACTIVE":
            continue
        if cai:  # each project through Cloud Asset Inventory (which claims it), walked where CAI cannot answer
            from ..inventory import gcp_engines

            yield gcp_engines.scope_task(gcp, f"projects/{pid}")
        elif gcp.claim(pid):
            yield from _project_tasks(gcp, pid)


def _container(gcp: Gcp, parent: str) -> Iterator[Task | Found]:
    """Projects directly under an organization or folder, and a task for each sub-folder."""
    # one term only: projects:search ORs the terms of a query ("match any of the fields"); state is checked below
    yield from _search(gcp, f"parent:{parent}")
    for folder in gcp.pages(
        "resourcemanager", "/v3/folders", "resourcemanager folders.list", "folders", {"parent": parent}
    ):
        name = folder.get("name")
        if name and folder.get("state", "ACTIVE") == "ACTIVE":
            yield Task(
                Provider.GCP,
                name.replace("folders/", "folder/"),
                functools.partial(_container, gcp, name),
                describe_error,
            )


def walker(service: str) -> Any:
    """The lister of a --service (its store module imported on first use): (gcp, project) → resources, tasks, skips."""
    import importlib

    module, function = WALKERS[service]
    return getattr(importlib.import_module(f"residency_audit.stores.gcp.{module}"), function)


def _project_tasks(gcp: Gcp, project: str) -> Iterator[Task | Found]:
    # the per-service walk answers for this project (it counts what its stores read)
    yield Found(Provider.GCP, WALK, f"project/{project}", "", 0)
    for service in gcp.options.services or SERVICES:
        yield Task(
            Provider.GCP, scope(project, service), functools.partial(walker(service), gcp, project), describe_error
        )


def resource(
    gcp: Gcp,
    project: str,
    service: str,
    rtype: str,
    rid: str,
    name: str,
    footprint: list[Copy],
    labels: dict[str, str],
    key: tuple[KeyControl, str],
) -> Resource:
    """A Resource from what the API returned, with declared client-side encryption applied."""
    key_control, key_note = declared_key_control(labels, CLIENT_SIDE_LABEL, key, word="label")
    if key_control is KeyControl.CLIENT_SIDE and key_control is not key[0]:
        # encrypted before upload (declared): that covers every copy, whatever key each replica has
        footprint = [replace(c, key_control=None) for c in footprint]
    return Resource(
        provider=Provider.GCP,
        account=project,
        service=service,
        type=rtype,
        id=rid,
        name=name,
        footprint=tuple(dedupe_places(footprint)),
        key_control=key_control,
        key_note=key_note,
        tags=labels,
        classification=labels.get(gcp.options.classification_label),
    )


GOOGLE_DEFAULT_KEY = (KeyControl.PROVIDER_MANAGED, "Google default encryption (Google-owned keys)")
