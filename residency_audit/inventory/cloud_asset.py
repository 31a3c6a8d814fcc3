"""Google Cloud Asset Inventory: every resource under an organization, folder or project, 500 to a request.

One `searchAllResources` (v1) call per page of 500 (the API's cap) answers for a whole scope: the number of
requests grows with the number of resources, never with the number of projects or services. No asset-type filter
is sent, so resources of types the tool does not know are counted too; the read mask asks for what the catalogue
and the stores need, including `versionedResources` (the resource's own JSON, as its service's API returns it:
a bucket's `customPlacementConfig` and `encryption`, a dataset's `defaultEncryptionConfiguration`, a Cloud SQL
instance's `replicaNames`), which the API leaves out unless asked.

Blind spots are never silent: a scope the API refuses (403, including SERVICE_DISABLED when the Cloud Asset API is
off in the project the call is billed to), or that keeps failing after retries, becomes a `Blind` for that scope,
and the scan walks it service by service instead. Results from the pages read before a failure are still yielded:
they are true, and the walk finds them again (the pipeline keeps one of each).

The endpoint follows the other Google APIs' convention: RESIDENCY_AUDIT_GCP_CLOUDASSET_ENDPOINT, default
https://cloudasset.googleapis.com. Permission: `cloudasset.assets.searchAllResources` on the scope (role
Cloud Asset Viewer, roles/cloudasset.viewer).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Protocol

from ..model import Provider
from .records import Blind, Listed

ENGINE = "cloud-asset-inventory"
API = "cloudasset"
ENDPOINT_VAR = "RESIDENCY_AUDIT_GCP_CLOUDASSET_ENDPOINT"
DEFAULT_ENDPOINT = "https://cloudasset.googleapis.com"
OPERATION = "cloudasset searchAllResources"
PAGE_SIZE = 500  # the API caps pages at 500 whatever is asked
PROJECT_TYPE = "cloudresourcemanager.googleapis.com/Project"
READ_MASK = ",".join(
    (
        "name",
        "assetType",
        "project",
        "folders",
        "organization",
        "displayName",
        "location",
        "labels",
        "kmsKeys",
        "state",
        "additionalAttributes",
        "parentFullResourceName",
        "parentAssetType",
        "versionedResources",
    )
)


class Client(Protocol):
    """What the engine needs from the Google Cloud session: named endpoints and paged, retried GETs."""

    endpoints: dict[str, str]

    def pages(
        self, api: str, path: str, operation: str, items: str, params: dict[str, str] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every item of a paged list (`pageToken` / `nextPageToken`)."""
        ...


def endpoint() -> str:
    """The Cloud Asset API's base URL (RESIDENCY_AUDIT_GCP_CLOUDASSET_ENDPOINT, or Google's)."""
    return os.environ.get(ENDPOINT_VAR, DEFAULT_ENDPOINT).rstrip("/")


def scope_of(organization: str | None = None, folder: str | None = None, project: str | None = None) -> str:
    """The scope name the API takes: organizations/N, folders/N or projects/ID, from an id with or without prefix."""
    for kind, value in (("organizations", organization), ("folders", folder), ("projects", project)):
        if value:
            value = value.strip()
            return value if value.startswith(kind + "/") else f"{kind}/{value}"
    raise ValueError("a Cloud Asset Inventory scope needs an organization, a folder or a project")


def search(client: Client, scope: str, describe_error: Callable[[BaseException], str]) -> Iterator[Listed | Blind]:
    """Every resource under `scope`, then a `Blind` for the scope if the API refused or failed part-way."""
    client.endpoints.setdefault(API, endpoint())
    params = {"pageSize": str(PAGE_SIZE), "readMask": READ_MASK}
    rows: list[dict[str, Any]] = []
    failure: Blind | None = None
    try:
        for item in client.pages(API, f"/v1/{scope}:searchAllResources", OPERATION, "results", params):
            if not isinstance(item, dict):
                raise ValueError(f"a search result is {type(item).__name__}, not an object")
            rows.append(item)
    except Exception as exc:  # any failure of the call: the scope is walked instead, and says why
        failure = Blind(Provider.GCP, ENGINE, scope, f"Cloud Asset Inventory unavailable: {describe_error(exc)}")
    # a search result names its project by number; the Project assets in the same answer give the ids
    ids = project_ids(rows)
    for item in rows:
        yield listed(item, ids, scope)
    if failure is not None:
        yield failure


def project_ids(rows: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """`projects/NUMBER` → project id, from the Project assets among `rows`."""
    out: dict[str, str] = {}
    for row in rows:
        if row.get("assetType") != PROJECT_TYPE:
            continue
        number = str(row.get("name", "")).rsplit("/", 1)[-1]
        resource = _resource(row)[1]
        pid = resource.get("projectId") or _mapping(row.get("additionalAttributes")).get("projectId")
        if number and isinstance(pid, str) and pid:
            out[f"projects/{number}"] = pid
    return out


def listed(row: Mapping[str, Any], ids: Mapping[str, str], scope: str) -> Listed:
    """One search result as a `Listed`; the project given by id where the answer named it, else `projects/NUMBER`."""
    name = str(row.get("name") or "")
    asset_type = str(row.get("assetType") or "")
    project = str(row.get("project") or "")
    version, resource = _resource(row)
    if asset_type == PROJECT_TYPE:
        account = ids.get(f"projects/{name.rsplit('/', 1)[-1]}", project)
    else:
        account = ids.get(project, project) or str(row.get("organization") or scope)
    labels = {str(k): str(v) for k, v in _mapping(row.get("labels")).items()}
    return Listed(
        provider=Provider.GCP,
        engine=ENGINE,
        account=account,
        native_type=asset_type,
        id=name,
        name=str(row.get("displayName") or name.rsplit("/", 1)[-1]),
        location=str(row.get("location") or ""),
        tags=labels,
        properties={
            "resource": resource,
            "version": version,
            "kmsKeys": [str(k) for k in row.get("kmsKeys") or [] if k] if isinstance(row.get("kmsKeys"), list) else [],
            "state": row.get("state"),
            "additionalAttributes": _mapping(row.get("additionalAttributes")),
            "parent": row.get("parentFullResourceName"),
            "project": project,
        },
    )


def _resource(row: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The first versioned representation of the resource (version, JSON), or ("", {})."""
    versions = row.get("versionedResources")
    for versioned in versions if isinstance(versions, list) else []:
        if isinstance(versioned, dict) and isinstance(versioned.get("resource"), dict):
            return str(versioned.get("version") or ""), versioned["resource"]
    return "", {}


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
