"""Cloud Asset Inventory v1 ``searchAllResources`` for the local Google Cloud endpoint (tests/servers/gcp.py).

The index is the endpoint's own state, so a search finds exactly what the per-service APIs list: one
``cloudresourcemanager.googleapis.com/Project`` per project, ``storage.googleapis.com/Bucket``,
``bigquery.googleapis.com/Dataset`` and ``sqladmin.googleapis.com/Instance``, each with the resource's own JSON in
``versionedResources`` (as the service's API returns it), plus whatever a test adds with :meth:`CloudAsset.add`
(types the tool does not read: snapshots, secrets, topics …). Shapes follow the cloudasset v1 discovery document's
``ResourceSearchResult``; locations are lower-case as CAI reports them.

Scopes: ``organizations/N`` (every project whose ancestry reaches it), ``folders/N`` (projects under the folder, at
any depth) and ``projects/ID`` or ``projects/NUMBER``. Paging: ``pageSize`` capped at 500 (and at ``page_cap``),
``pageToken`` an offset. ``readMask``: the named fields only, ``*`` for all; without one, every default field
(``versionedResources`` is not a default). Denial: a scope in ``disabled`` answers 403 with an ``ErrorInfo``
reason SERVICE_DISABLED, one in ``denied`` 403 PERMISSION_DENIED; other faults come from the endpoint's fault
registry (api ``cloudasset``, operation ``searchAllResources``). The API starts disabled (``enabled`` False),
as in a project where nobody turned it on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .gcp import GcpEndpoint

ROUTE = r"^/v1/(?P<scope>organizations/[^/:]+|folders/[^/:]+|projects/(?P<project>[^/:]+)):searchAllResources$"
MAX_PAGE = 500
FIELDS = frozenset(
    {
        "additionalAttributes", "assetType", "attachedResources", "createTime", "description", "displayName",
        "effectiveTags", "enrichments", "folders", "kmsKey", "kmsKeys", "labels", "location", "name", "networkTags",
        "organization", "parentAssetType", "parentFullResourceName", "project", "relationships",
        "sccSecurityMarks", "state", "tagKeys", "tagValueIds", "tagValues", "tags", "updateTime",
        "versionedResources",
    }
)  # fmt: skip
NOT_DEFAULT = frozenset({"versionedResources", "attachedResources", "enrichments", "relationships"})


class CloudAsset:
    """The stand-in's switches and extra assets; the rest of its index is the endpoint's state."""

    def __init__(self, endpoint: GcpEndpoint) -> None:
        self.endpoint = endpoint
        #: off by default, as in a project where nobody enabled the Cloud Asset API: every search then answers
        #: 403 SERVICE_DISABLED and the tool walks; tests and benchmarks of CAI turn it on
        self.enabled = False
        self.extra: list[tuple[str, dict[str, Any]]] = []  # (project id, ResourceSearchResult)
        self.disabled: set[str] = set()  # scopes answering 403 SERVICE_DISABLED
        self.denied: set[str] = set()  # scopes answering 403 PERMISSION_DENIED
        self.page_cap: int | None = None
        #: answer 500 to every page from this offset on (a search that fails part-way)
        self.fail_from: int | None = None

    def reset(self) -> None:
        """Off; no extra assets, nothing disabled or denied, no page cap."""
        self.enabled = False
        self.extra.clear()
        self.disabled.clear()
        self.denied.clear()
        self.page_cap = None
        self.fail_from = None

    def add(
        self,
        project: str,
        asset_type: str,
        name: str,
        location: str,
        *,
        labels: dict[str, str] | None = None,
        resource: dict[str, Any] | None = None,
        version: str = "v1",
    ) -> None:
        """An asset of any type in `project` (full resource name `name`, e.g. //compute.googleapis.com/…)."""
        row: dict[str, Any] = {"name": name, "assetType": asset_type, "location": location, "state": "READY"}
        if labels:
            row["labels"] = dict(labels)
        if resource is not None:
            row["versionedResources"] = [{"version": version, "resource": resource}]
        self.extra.append((project, row))

    # -- the API ------------------------------------------------------------------------------------------------

    def handle(self, scope: str, q: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """Answer one searchAllResources request."""
        if scope in self.disabled or not self.enabled:
            return _disabled(scope)
        if scope in self.denied:
            return _status(403, "PERMISSION_DENIED", f"The caller does not have permission on {scope}")
        mask = [f.strip() for f in q.get("readMask", "").split(",") if f.strip()]
        unknown = [f for f in mask if f != "*" and f not in FIELDS]
        if unknown:
            return _status(400, "INVALID_ARGUMENT", f"Invalid field path in read_mask: {unknown[0]}")
        if q.get("assetTypes") or q.get("query"):
            return _status(400, "INVALID_ARGUMENT", "this stand-in serves unfiltered searches only")
        rows = sorted(self._rows(scope), key=lambda r: r["name"])
        try:
            start = int(q.get("pageToken") or 0)
            size = int(q.get("pageSize") or 100)
        except ValueError:
            return _status(400, "INVALID_ARGUMENT", "Invalid page token or page size")
        size = min(size if size > 0 else 100, MAX_PAGE, self.page_cap or MAX_PAGE)
        if self.fail_from is not None and start >= self.fail_from:
            return _status(500, "INTERNAL", "Internal error encountered.")
        page: dict[str, Any] = {"results": [_masked(r, mask) for r in rows[start : start + size]]}
        if start + size < len(rows):
            page["nextPageToken"] = str(start + size)
        return 200, page

    def _rows(self, scope: str) -> list[dict[str, Any]]:
        ep = self.endpoint
        with ep._lock:
            state = ep.state
            projects = {pid: dict(p) for pid, p in state.projects.items()}
            folders = {name: dict(f) for name, f in state.folders.items()}
            buckets = {p: list(b.values()) for p, b in state.buckets.items()}
            datasets = {p: list(d.values()) for p, d in state.datasets.items()}
            instances = {p: list(i) for p, i in state.instances.items()}
            extra = list(self.extra)
        rows: list[dict[str, Any]] = []
        for pid, project in projects.items():
            ancestry = _ancestry(project.get("parent", ""), folders)
            number = project["name"].split("/", 1)[1]
            if not _in_scope(scope, pid, number, ancestry) or project.get("state", "ACTIVE") != "ACTIVE":
                continue
            where = {
                "project": f"projects/{number}",
                "folders": [a for a in ancestry if a.startswith("folders/")],
                "organization": next((a for a in ancestry if a.startswith("organizations/")), ""),
            }
            rows.append(
                _row(
                    where,
                    f"//cloudresourcemanager.googleapis.com/projects/{number}",
                    "cloudresourcemanager.googleapis.com/Project",
                    pid,
                    "global",
                    {},
                    {
                        "projectNumber": number,
                        "projectId": pid,
                        "lifecycleState": "ACTIVE",
                        "name": project.get("displayName", pid),
                        "parent": _parent_ref(project.get("parent", "")),
                    },
                    "v1",
                    [],
                )
            )
            for b in buckets.get(pid, []):
                key = (b.get("encryption") or {}).get("defaultKmsKeyName")
                rows.append(
                    _row(
                        where,
                        f"//storage.googleapis.com/{b['name']}",
                        "storage.googleapis.com/Bucket",
                        b["name"],
                        str(b.get("location", "")).lower(),
                        b.get("labels") or {},
                        b,
                        "v1",
                        [key] if key else [],
                    )
                )
            for d in datasets.get(pid, []):
                key = (d.get("defaultEncryptionConfiguration") or {}).get("kmsKeyName")
                did = d["datasetReference"]["datasetId"]
                rows.append(
                    _row(
                        where,
                        f"//bigquery.googleapis.com/projects/{pid}/datasets/{did}",
                        "bigquery.googleapis.com/Dataset",
                        did,
                        str(d.get("location", "")).lower(),
                        d.get("labels") or {},
                        d,
                        "v2",
                        [key] if key else [],
                    )
                )
            for i in instances.get(pid, []):
                key = (i.get("diskEncryptionConfiguration") or {}).get("kmsKeyName")
                rows.append(
                    _row(
                        where,
                        f"//cloudsql.googleapis.com/projects/{pid}/instances/{i['name']}",
                        "sqladmin.googleapis.com/Instance",
                        i["name"],
                        i.get("region", ""),
                        (i.get("settings") or {}).get("userLabels") or {},
                        i,
                        "v1beta4",
                        [key] if key else [],
                    )
                )
            for asset_type, name, location, resource in ep.stores.assets(pid):
                shown = resource.get("labels") or {}
                rows.append(_row(where, name, asset_type, name.rsplit("/", 1)[-1], location, shown, resource, "v1", []))
            for owner, row in extra:
                if owner == pid:
                    rows.append({**where, "displayName": row["name"].rsplit("/", 1)[-1], **row})
        return rows


def _row(
    where: dict[str, Any],
    name: str,
    asset_type: str,
    display: str,
    location: str,
    labels: dict[str, str],
    resource: dict[str, Any],
    version: str,
    keys: list[str],
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "name": name,
        "assetType": asset_type,
        **where,
        "displayName": display,
        "location": location,
        "state": "ACTIVE",
        "versionedResources": [{"version": version, "resource": resource}],
    }
    if labels:
        row["labels"] = dict(labels)
    if keys:
        row["kmsKeys"] = keys
    return row


def _ancestry(parent: str, folders: dict[str, dict[str, Any]]) -> list[str]:
    out: list[str] = []
    while parent and parent not in out:
        out.append(parent)
        parent = folders.get(parent, {}).get("parent", "") if parent.startswith("folders/") else ""
    return out


def _in_scope(scope: str, pid: str, number: str, ancestry: list[str]) -> bool:
    if scope.startswith("projects/"):
        return scope.split("/", 1)[1] in (pid, number)
    return scope in ancestry


def _parent_ref(parent: str) -> dict[str, str]:
    kind, _, ident = parent.partition("/")
    return {"type": kind.rstrip("s"), "id": ident} if ident else {}


def _masked(row: dict[str, Any], mask: list[str]) -> dict[str, Any]:
    if "*" in mask:
        return dict(row)
    keep = set(mask) if mask else FIELDS - NOT_DEFAULT
    return {k: v for k, v in row.items() if k in keep}


def _status(code: int, status: str, message: str, details: list[dict[str, Any]] | None = None) -> tuple[int, Any]:
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details:
        error["details"] = details
    return code, {"error": error}


def _disabled(scope: str) -> tuple[int, dict[str, Any]]:
    consumer = scope if scope.startswith("projects/") else "projects/100000"
    return _status(
        403,
        "PERMISSION_DENIED",
        f"Cloud Asset API has not been used in project {consumer.split('/', 1)[1]} before or it is disabled. Enable "
        "it by visiting https://console.developers.google.com/apis/api/cloudasset.googleapis.com/overview then retry.",
        [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "SERVICE_DISABLED",
                "domain": "googleapis.com",
                "metadata": {"service": "cloudasset.googleapis.com", "consumer": consumer},
            }
        ],
    )
