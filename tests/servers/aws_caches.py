"""What moto 5.2 lacks for ElastiCache serverless caches and DocumentDB elastic clusters, served in the real wire format.

* ElastiCache DescribeServerlessCaches (query protocol, XML): moto raises NotImplementedError; answered from the
  declared caches, each a botocore `elasticache` model `ServerlessCache`, written through that model's shapes
  (tests/servers/aws_graph.py `to_xml`), paged by `MaxResults`/`NextToken`.
* DocumentDB elastic (REST-JSON, service `docdb-elastic`): moto has no backend at all. ListClusters
  (`GET /clusters`, paged by `maxResults`/`nextToken`), GetCluster (`GET /cluster/{clusterArn}`) and
  ListTagsForResource (`GET /tags/{resourceArn}`), shaped as botocore's `docdb-elastic` model; an unknown ARN is
  `ResourceNotFoundException` (HTTP 404), as the model's errors say.

moto still serves DescribeCacheClusters itself (standalone cache clusters are seeded through boto3 into moto).
Hooked into the endpoint's answers (tests/servers/aws_edits.py) by `endpoint.caches.answer`.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from .aws_graph import ACCOUNT, _query_answer

Response = tuple[int, str, list[tuple[str, str]], bytes]


def _json(status: int, doc: dict[str, Any], code: str = "") -> Response:
    headers = [("Content-Type", "application/json"), ("x-amzn-RequestId", "1")]
    if code:
        headers.append(("x-amzn-ErrorType", code))
    return status, "OK" if status == 200 else "Error", headers, json.dumps(doc).encode()


@dataclass
class CacheState:
    """Declared serverless caches and elastic clusters, per region; cleared by AwsEndpoint.reset()."""

    #: (account, region) → serverless caches (botocore elasticache `ServerlessCache` fields)
    serverless: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    #: (account, region) → elastic clusters (botocore docdb-elastic `Cluster` fields)
    elastic: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    #: elastic cluster ARN → its tags
    elastic_tags: dict[str, dict[str, str]] = field(default_factory=dict)

    def reset(self) -> None:
        self.serverless.clear()
        self.elastic.clear()
        self.elastic_tags.clear()

    def serverless_cache(
        self,
        name: str,
        region: str,
        *,
        kms_key_arn: str | None = None,
        encryption: str | None = None,
        account: str = ACCOUNT,
    ) -> str:
        """Declare a serverless cache (under `kms_key_arn`, else ElastiCache's own key); returns its ARN."""
        arn = f"arn:aws:elasticache:{region}:{account}:serverlesscache:{name}"
        cache: dict[str, Any] = {"ServerlessCacheName": name, "ARN": arn, "Status": "available", "Engine": "valkey",
                                 "StorageEncryptionType": encryption or ("sse-kms" if kms_key_arn else "sse-elasticache")}  # fmt: skip
        if kms_key_arn:
            cache["KmsKeyId"] = kms_key_arn
        self.serverless.setdefault((account, region), []).append(cache)
        return arn

    def elastic_cluster(
        self, name: str, region: str, kms_key_arn: str, *, tags: dict[str, str] | None = None, account: str = ACCOUNT
    ) -> str:
        """Declare a DocumentDB elastic cluster encrypted under `kms_key_arn`; returns its ARN."""
        arn = f"arn:aws:docdb-elastic:{region}:{account}:cluster/{uuid.uuid5(uuid.NAMESPACE_URL, f'{region}/{name}')}"
        self.elastic.setdefault((account, region), []).append({
            "clusterArn": arn, "clusterName": name, "status": "ACTIVE", "kmsKeyId": kms_key_arn,
            "adminUserName": "admin", "authType": "PLAIN_TEXT", "clusterEndpoint": f"{name}.docdb-elastic.local",
            "createTime": "2026-11-29T00:00:00Z", "preferredMaintenanceWindow": "sun:03:00-sun:04:00",
            "shardCapacity": 2, "shardCount": 1, "subnetIds": [], "vpcSecurityGroupIds": [],
        })  # fmt: skip
        self.elastic_tags[arn] = dict(tags or {})
        return arn

    def answer(
        self, service: str | None, region: str | None, action: str | None, path: str, body: bytes, authorization: str
    ) -> Response | None:
        """The answer to a call this module serves (to the account of the caller's access key), or None."""
        if service not in ("elasticache", "docdb-elastic"):
            return None
        from moto.iam.models import get_account_id_from

        where = (get_account_id_from(authorization.split("Credential=", 1)[-1].split("/", 1)[0]), region or "")
        if service == "elasticache" and action == "DescribeServerlessCaches":
            params = parse_qs(body.decode())
            wanted = params.get("ServerlessCacheName", [None])[0]
            rows = [c for c in self.serverless.get(where, []) if wanted in (None, c["ServerlessCacheName"])]
            if wanted and not rows:
                return _query_error_404("ServerlessCacheNotFoundFault", f"{wanted} not found")
            start = int(params.get("NextToken", ["0"])[0])
            size = int(params.get("MaxResults", ["50"])[0])
            doc: dict[str, Any] = {"ServerlessCaches": rows[start : start + size]}
            if start + size < len(rows):
                doc["NextToken"] = str(start + size)
            return _query_answer("elasticache", action, doc)
        if service != "docdb-elastic":
            return None
        split = urlsplit(path)
        if action == "ListClusters":
            query = parse_qs(split.query)
            rows = [{k: c[k] for k in ("clusterArn", "clusterName", "status")} for c in self.elastic.get(where, [])]
            start = int(query.get("nextToken", ["0"])[0])
            size = int(query.get("maxResults", ["100"])[0])
            out: dict[str, Any] = {"clusters": rows[start : start + size]}
            if start + size < len(rows):
                out["nextToken"] = str(start + size)
            return _json(200, out)
        arn = unquote(split.path.split("/", 2)[-1])
        found = [c for c in self.elastic.get(where, []) if c["clusterArn"] == arn]
        if not found:
            return _json(404, {"message": f"{arn} not found"}, "ResourceNotFoundException")
        if action == "GetCluster":
            return _json(200, {"cluster": found[0]})
        if action == "ListTagsForResource":
            return _json(200, {"tags": self.elastic_tags.get(arn, {})})
        return _json(400, {"message": f"{action} is not served here"}, "ValidationException")


def _query_error_404(code: str, message: str) -> Response:
    xml = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
           "<RequestId>1</RequestId></ErrorResponse>")  # fmt: skip
    return 404, "Not Found", [("Content-Type", "text/xml")], xml.encode()
