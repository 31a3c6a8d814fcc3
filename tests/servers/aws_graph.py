"""What moto 5.2 lacks for the graph, document and cache stores, added to its answers in the real wire format.

moto refuses the `docdb` engine (its RDS backend allows aurora, mysql, neptune, postgres only), so DocumentDB
clusters and global clusters declared here are added to moto's RDS DescribeDBClusters and DescribeGlobalClusters
answers (the docdb API is the RDS endpoint: botocore's docdb model, endpoint prefix and signing name `rds`). The
elements are written from botocore's own rds model (member names, list member names), never by hand.

Hooked into tests/servers/aws.py's proxy with one line: `AwsEndpoint.graph.edit(rec, resp)`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

Response = tuple[int, str, list[tuple[str, str]], bytes]

ACCOUNT = "123456789012"


@functools.cache
def _model(service: str) -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model(service)


def to_xml(shape: Any, value: Any) -> str:
    """`value` as the query protocol's XML for `shape` (structure members, lists' member names, scalars)."""
    if shape.type_name == "structure":
        out = []
        for name, member in shape.members.items():
            if name in value:
                tag = member.serialization.get("name", name)
                out.append(f"<{tag}>{to_xml(member, value[name])}</{tag}>")
        return "".join(out)
    if shape.type_name == "list":
        tag = shape.member.serialization.get("name", "member")
        return "".join(f"<{tag}>{to_xml(shape.member, item)}</{tag}>" for item in value)
    if shape.type_name == "boolean":
        return "true" if value else "false"
    return escape(str(value))


def insert(resp: Response, service: str, operation: str, list_name: str, items: list[dict[str, Any]]) -> Response:
    """Append `items` to the list `list_name` of an XML answer to `operation` (made by moto, or empty)."""
    if not items:
        return resp
    status, reason, headers, data = resp
    shape = _model(service).operation_model(operation).output_shape.members[list_name]
    xml = to_xml(shape, items)
    text = data.decode()
    if f"<{list_name}/>" in text:
        text = text.replace(f"<{list_name}/>", f"<{list_name}>{xml}</{list_name}>", 1)
    elif f"</{list_name}>" in text:
        text = text.replace(f"</{list_name}>", f"{xml}</{list_name}>", 1)
    else:
        text = text.replace(f"<{operation}Result>", f"<{operation}Result><{list_name}>{xml}</{list_name}>", 1)
    return status, reason, [(k, v) for k, v in headers if k.lower() != "content-length"], text.encode()


@dataclass
class GraphState:
    """Declared resources moto cannot hold; cleared by AwsEndpoint.reset()."""

    #: region → DocumentDB clusters (botocore rds model DBCluster fields: DBClusterIdentifier, DBClusterArn, …)
    docdb_clusters: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: DocumentDB global clusters (GlobalCluster fields); every region's DescribeGlobalClusters lists them
    docdb_globals: list[dict[str, Any]] = field(default_factory=list)

    def reset(self) -> None:
        self.docdb_clusters.clear()
        self.docdb_globals.clear()

    def edit(self, service: str | None, region: str | None, action: str | None, resp: Response) -> Response:
        """moto's answer with the declared resources added (only successful answers are edited)."""
        if resp[0] != 200 or service != "rds":
            return resp
        if action == "DescribeDBClusters":
            return insert(resp, "rds", action, "DBClusters", self.docdb_clusters.get(region or "", []))
        if action == "DescribeGlobalClusters":
            return insert(resp, "rds", action, "GlobalClusters", self.docdb_globals)
        return resp

    def docdb_cluster(
        self, name: str, region: str, *, kms_key_arn: str | None = None, global_id: str | None = None
    ) -> str:
        """Declare a DocumentDB cluster (in a global cluster when `global_id` names one); returns its ARN."""
        arn = f"arn:aws:rds:{region}:{ACCOUNT}:cluster:{name}"
        cluster: dict[str, Any] = {"DBClusterIdentifier": name, "DBClusterArn": arn, "Engine": "docdb",
                                   "Status": "available", "StorageEncrypted": bool(kms_key_arn)}  # fmt: skip
        if kms_key_arn:
            cluster["KmsKeyId"] = kms_key_arn
        self.docdb_clusters.setdefault(region, []).append(cluster)
        if global_id:
            found = [g for g in self.docdb_globals if g["GlobalClusterIdentifier"] == global_id]
            group = found[0] if found else None
            if group is None:
                group = {"GlobalClusterIdentifier": global_id, "Engine": "docdb", "GlobalClusterMembers": []}
                self.docdb_globals.append(group)
            writer = not group["GlobalClusterMembers"]
            group["GlobalClusterMembers"].append({"DBClusterArn": arn, "IsWriter": writer})
        return arn
