"""The Resource Manager client of an Azure scan: one azure-core pipeline, the shared token, and memoised lookups.

See clouds/azure.py for why plain Resource Manager requests (no typed `azure-mgmt-*` client) are sent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..model import KeyControl
from ..stores.common import Memo
from .azure import CLOUDS, GRAPH_API, GRAPH_PAGE, GRAPH_SUBSCRIPTIONS, KINDS, AzureOptions, describe_error

if TYPE_CHECKING:
    from ..stores.azure.sql import SqlServer

_RETRY_AFTER_CAP = 60.0  # seconds: wait no longer than this for one Retry-After, however long the server asks


class _CachedCredential:
    """One token for the whole scan, fetched once even when every worker asks at once.

    azure-core's bearer policy keeps no lock, so 16 workers starting together would each run `az` (or probe the
    managed-identity endpoint). A failure is remembered too: a missing login fails the scan once, not per task.
    """

    def __init__(self, credential: Any) -> None:
        self._credential = credential
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, ...], Any] = {}
        self._failure: BaseException | None = None

    def get_token(self, *scopes: str, claims: str | None = None, tenant_id: str | None = None, **kwargs: Any) -> Any:
        """A cached access token for `scopes`; a claims challenge or another tenant always asks afresh."""
        if claims or tenant_id:
            return self._credential.get_token(*scopes, claims=claims, tenant_id=tenant_id, **kwargs)
        with self._lock:
            if self._failure is not None:
                raise self._failure
            token = self._tokens.get(scopes)
            if token is None or token.expires_on - time.time() < 300:
                try:
                    token = self._credential.get_token(*scopes, **kwargs)
                except Exception as exc:
                    self._failure = exc
                    raise
                self._tokens[scopes] = token
            return token


class Arm:
    """The pipeline, the scan's options, and the lookups shared by every task."""

    def __init__(self, options: AzureOptions) -> None:
        import requests
        from azure.core import PipelineClient
        from azure.core.pipeline.policies import (
            BearerTokenCredentialPolicy,
            ContentDecodePolicy,
            HeadersPolicy,
            ProxyPolicy,
            RedirectPolicy,
            RetryPolicy,
            UserAgentPolicy,
        )
        from azure.core.pipeline.transport import RequestsTransport
        from azure.identity import DefaultAzureCredential

        if options.cloud not in CLOUDS:
            raise ValueError(f"unknown Azure cloud {options.cloud!r} (public, china or usgov)")
        cloud = CLOUDS[options.cloud]
        self.options = options
        self.endpoint = (options.endpoint or cloud.endpoint).rstrip("/")
        self.audience = cloud.audience
        self.credential = _CachedCredential(DefaultAzureCredential(authority=cloud.authority))

        class _Retry(RetryPolicy):  # type: ignore[type-arg]
            def get_retry_after(self, response: Any) -> float | None:
                after = super().get_retry_after(response)
                return None if after is None else min(float(after), _RETRY_AFTER_CAP)

        # One pooled session for every worker: a pool as large as the concurrency, so no request waits for (or
        # drops) a kept-alive TLS connection. requests honours REQUESTS_CA_BUNDLE and the proxy variables.
        session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(
            pool_connections=4, pool_maxsize=max(10, options.concurrency), max_retries=0
        )
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        transport = RequestsTransport(session=session, connection_timeout=options.timeout, read_timeout=options.timeout)
        transport.open()  # before the workers start: RequestsTransport.open() is not thread-safe
        self.client: Any = PipelineClient(
            base_url=self.endpoint,
            transport=transport,
            policies=[
                HeadersPolicy({"Accept": "application/json"}),
                UserAgentPolicy(sdk_moniker="residency-audit"),
                ProxyPolicy(),
                RedirectPolicy(),
                _Retry(
                    retry_total=options.max_retries,
                    retry_status=options.max_retries,
                    retry_backoff_factor=0.5,
                    retry_backoff_max=30,
                ),
                # inside the retry policy: a body that does not decode (cut short, not JSON) is retried
                ContentDecodePolicy(),
                BearerTokenCredentialPolicy(self.credential, self.audience),
            ],
        )
        self.sql_server = Memo(self._sql_server)
        self.server_location = Memo(self._server_location)
        self.replicas = Memo(self._replicas)
        # any child list several resources share (a resource group's instance failover groups): (path, api-version)
        self.lists = Memo(lambda arg: list(self.pages(*arg)))
        # storage accounts by lower-case id (an object replication policy's destination): seeded from the inventory,
        # read by id only when it holds no such account; and the inventory's accounts by lower-case name, for a
        # policy that names its destination by name only (cross-tenant replication allowed)
        self.storage_accounts = Memo(lambda rid: self.get(rid, KINDS["storage-account"].api_version))
        self.storage_names: dict[str, str] = {}

    def seed_storage_account(self, item: dict[str, Any]) -> None:
        """Remember a storage account the inventory returned, so a policy naming it as destination costs no GET."""
        rid = str(item.get("id") or "")
        if rid:
            self.storage_accounts.seed(rid.lower(), item)
            self.storage_names.setdefault(str(item.get("name") or rid.rsplit("/", 1)[-1]).lower(), rid)

    def _send(self, method: str, url: str, params: dict[str, str], body: Any = None) -> dict[str, Any]:
        from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError
        from azure.core.rest import HttpRequest

        request = HttpRequest(method, url, params=params, json=body)
        # The Resource Graph query is a POST but reads only, so it may be retried like a GET.
        options = {"retry_on_methods": frozenset({"GET", "POST"})} if method == "POST" else {}
        response = self.client.send_request(request, **options)
        if response.status_code >= 400:
            # the default (OData v4) error format reads ARM's {"error": {"code", "message"}} body
            error_type = {401: ClientAuthenticationError, 404: ResourceNotFoundError}.get(
                response.status_code, HttpResponseError
            )
            raise error_type(response=response)
        data: dict[str, Any] = response.json() if response.content else {}
        return data

    def url(self, path: str) -> str:
        """The absolute Resource Manager URL of `path`."""
        return self.endpoint + path

    def get(self, path: str, api_version: str) -> dict[str, Any]:
        """GET one Resource Manager object."""
        return self._send("GET", self.url(path), {"api-version": api_version})

    def pages(self, path: str, api_version: str) -> Iterator[dict[str, Any]]:
        """Every item of a Resource Manager list, following nextLink (which carries its own query)."""
        page = self._send("GET", self.url(path), {"api-version": api_version})
        while True:
            yield from page.get("value") or []
            link = page.get("nextLink")
            if not link:
                return
            # a nextLink normally carries the api-version; add it where one does not, or ARM answers 400
            page = self._send("GET", link, {} if "api-version=" in link else {"api-version": api_version})

    def graph(self, subscriptions: list[str], types: list[str], every_type: bool = False) -> list[dict[str, Any]]:
        """Every row of one Resource Graph query over `subscriptions`, all pages, or an exception.

        `every_type`: every resource of every type (for coverage), with `properties` only for `types` (the ones a
        store reads: the rest cost a row of id, type and location each); else only rows of `types`.
        """
        quoted = ", ".join(f"'{t.lower()}'" for t in types)
        columns = "| project id, name, type, location, subscriptionId, kind, sku, tags, properties"
        if every_type:
            query = f"resources | extend properties = iff(type in~ ({quoted}), properties, dynamic(null)) {columns}"
        else:
            query = f"resources | where type in~ ({quoted}) {columns}"
        rows: list[dict[str, Any]] = []
        for i in range(0, len(subscriptions), GRAPH_SUBSCRIPTIONS):
            batch = subscriptions[i : i + GRAPH_SUBSCRIPTIONS]
            token: str | None = None
            while True:
                options: dict[str, Any] = {"$top": GRAPH_PAGE, "resultFormat": "objectArray"}
                if token:
                    options["$skipToken"] = token
                answer = self._send(
                    "POST",
                    self.url("/providers/Microsoft.ResourceGraph/resources"),
                    {"api-version": GRAPH_API},
                    {"subscriptions": batch, "query": query, "options": options},
                )
                data = answer.get("data") or []
                if isinstance(data, dict):  # the table format: columns and rows
                    names = [c["name"] for c in data.get("columns", [])]
                    data = [dict(zip(names, row, strict=False)) for row in data.get("rows", [])]
                rows.extend(data)
                token = answer.get("$skipToken")
                if not token:
                    if str(answer.get("resultTruncated", "false")).lower() == "true":
                        raise RuntimeError("Resource Graph truncated its answer and gave no $skipToken")
                    break
        return rows

    # --- memoised lookups (shared by both inventory paths) -------------------------------------------------------

    def _sql_server(self, server_id: str) -> SqlServer:
        from ..stores.azure.sql import SqlServer, sql_key

        api = KINDS["sql-database"].api_version
        groups: list[dict[str, Any]] | BaseException
        links: list[dict[str, Any]] | BaseException
        try:
            groups = list(self.pages(f"{server_id}/failoverGroups", api))
        except Exception as exc:
            groups = exc
        try:
            links = list(self.pages(f"{server_id}/replicationLinks", api))
        except Exception as exc:
            links = exc
        try:
            protector = self.get(f"{server_id}/encryptionProtector/current", api).get("properties") or {}
            key = sql_key(protector)
        except Exception as exc:
            key = (KeyControl.UNKNOWN, f"TDE protector of the server unreadable: {describe_error(exc)}")
        return SqlServer(groups, links, key)

    def _server_location(self, arg: tuple[str, str]) -> str:
        server_id, api = arg
        return str(self.get(server_id, api)["location"])

    def _replicas(self, arg: tuple[str, str]) -> list[dict[str, Any]]:
        server_id, api = arg
        return list(self.pages(f"{server_id}/replicas", api))
