"""What moto 5.2 lacks for the graph, document and cache stores, added to its answers in the real wire format.

moto refuses the `docdb` engine (its RDS backend allows aurora, mysql, neptune, postgres only), so DocumentDB
clusters and global clusters declared here are added to moto's RDS DescribeDBClusters and DescribeGlobalClusters
answers (the docdb API is the RDS endpoint: botocore's docdb model, endpoint prefix and signing name `rds`). The
elements are written from botocore's own rds model (member names, list member names), never by hand.

Hooked into the endpoint's answers (tests/servers/aws_edits.py) by `endpoint.graph.answer` and `endpoint.graph.edit`.
"""

from __future__ import annotations

import functools
import json
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


def _query_answer(service: str, action: str, doc: dict[str, Any]) -> Response:
    xml = to_xml(_model(service).operation_model(action).output_shape, doc)
    ns = _model(service).metadata.get("xmlNamespace", "")
    text = (f'<{action}Response xmlns="{ns}"><{action}Result>{xml}</{action}Result>'
            f"<ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></{action}Response>")  # fmt: skip
    return 200, "OK", [("Content-Type", "text/xml")], text.encode()


def _json_error(status: int, code: str, message: str) -> Response:
    body = json.dumps({"__type": code, "message": message}).encode()
    return status, "Error", [("Content-Type", "application/json"), ("x-amzn-ErrorType", code)], body


def _query_error(status: int, code: str, message: str) -> Response:
    xml = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
           "</Error><RequestId>1</RequestId></ErrorResponse>")  # fmt: skip
    return status, "Error", [("Content-Type", "text/xml")], xml.encode()


@dataclass
class GraphState:
    """Declared resources moto cannot hold; cleared by AwsEndpoint.reset()."""

    #: region → DocumentDB clusters (botocore rds model DBCluster fields: DBClusterIdentifier, DBClusterArn, …)
    docdb_clusters: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: DocumentDB global clusters (GlobalCluster fields); every region's DescribeGlobalClusters lists them
    docdb_globals: list[dict[str, Any]] = field(default_factory=list)

    #: region → ElastiCache replication groups (ReplicationGroup fields), added to moto's DescribeReplicationGroups
    cache_groups: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: ElastiCache global datastores (GlobalReplicationGroup fields): moto has none
    cache_globals: list[dict[str, Any]] = field(default_factory=list)

    #: RDS instance id → its automated backups replicated to other regions (DBInstanceAutomatedBackup fields:
    #: DBInstanceAutomatedBackupsArn, Region, Encrypted, KmsKeyId); moto has no backup replication
    backup_replicas: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    #: region → MemoryDB clusters (Cluster fields: Name, ARN, KmsKeyId, MultiRegionClusterName), added to moto's
    memorydb_clusters: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: region → OpenSearch inbound connections (InboundConnection fields): moto has none
    inbound: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def reset(self) -> None:
        self.backup_replicas.clear()
        self.memorydb_clusters.clear()
        self.inbound.clear()
        self.docdb_clusters.clear()
        self.docdb_globals.clear()
        self.cache_groups.clear()
        self.cache_globals.clear()

    def answer(
        self, service: str | None, action: str | None, body: bytes, region: str | None = None
    ) -> Response | None:
        """An answer moto cannot give at all (None: ask moto)."""
        if service == "memorydb" and action == "DescribeMultiRegionClusters":
            wanted = json.loads(body or b"{}").get("MultiRegionClusterName")
            members = [{"ClusterName": c["Name"], "Region": r, "ARN": c["ARN"], "Status": "available"}
                       for r, cs in self.memorydb_clusters.items() for c in cs
                       if c.get("MultiRegionClusterName") == wanted]  # fmt: skip
            if not members:
                return _json_error(404, "MultiRegionClusterNotFoundFault", f"{wanted} not found")
            doc = {"MultiRegionClusters": [{"MultiRegionClusterName": wanted, "Clusters": members}]}
            return 200, "OK", [("Content-Type", "application/x-amz-json-1.1")], json.dumps(doc).encode()
        if service == "es" and action == "DescribeInboundConnections":
            doc = {"Connections": self.inbound.get(region or "", [])}
            return 200, "OK", [("Content-Type", "application/json")], json.dumps(doc).encode()
        if service == "rds" and action == "DescribeDBInstanceAutomatedBackups":
            from urllib.parse import parse_qs

            arn = parse_qs(body.decode()).get("DBInstanceAutomatedBackupsArn", [None])[0]
            found = [b for bs in self.backup_replicas.values() for b in bs if b["DBInstanceAutomatedBackupsArn"] == arn]
            if arn and not found:
                return _query_error(404, "DBInstanceAutomatedBackupNotFound", f"{arn} not found")
            if found:
                return _query_answer("rds", action, {"DBInstanceAutomatedBackups": found})
        if service == "elasticache" and action == "DescribeGlobalReplicationGroups":
            from urllib.parse import parse_qs

            wanted = parse_qs(body.decode()).get("GlobalReplicationGroupId", [None])[0]
            found = [g for g in self.cache_globals if wanted in (None, g["GlobalReplicationGroupId"])]
            if wanted and not found:
                return _query_error(404, "GlobalReplicationGroupNotFoundFault", f"{wanted} not found")
            return _query_answer("elasticache", action, {"GlobalReplicationGroups": found})
        return None

    def cache_group(
        self, name: str, region: str, *, kms_key_arn: str | None = None, global_id: str | None = None
    ) -> str:
        """Declare a replication group (a member of global datastore `global_id` if given); returns its ARN."""
        arn = f"arn:aws:elasticache:{region}:{ACCOUNT}:replicationgroup:{name}"
        group: dict[str, Any] = {"ReplicationGroupId": name, "ARN": arn, "Status": "available",
                                 "AtRestEncryptionEnabled": True}  # fmt: skip
        if kms_key_arn:
            group["KmsKeyId"] = kms_key_arn
        if global_id:
            found = [g for g in self.cache_globals if g["GlobalReplicationGroupId"] == global_id]
            glob = found[0] if found else {"GlobalReplicationGroupId": global_id, "Members": []}
            if not found:
                self.cache_globals.append(glob)
            role = "SECONDARY" if glob["Members"] else "PRIMARY"
            glob["Members"].append({"ReplicationGroupId": name, "ReplicationGroupRegion": region, "Role": role})
            group["GlobalReplicationGroupInfo"] = {"GlobalReplicationGroupId": global_id,
                                                   "GlobalReplicationGroupMemberRole": role}  # fmt: skip
        self.cache_groups.setdefault(region, []).append(group)
        return arn

    def edit(self, service: str | None, region: str | None, action: str | None, resp: Response) -> Response:
        """moto's answer with the declared resources added (only successful answers are edited)."""
        if resp[0] == 200 and service == "memorydb" and action == "DescribeClusters":
            extra = self.memorydb_clusters.get(region or "", [])
            doc = json.loads(resp[3])
            doc["Clusters"] = [*doc.get("Clusters", []), *extra]
            return (
                resp[0],
                resp[1],
                [(k, v) for k, v in resp[2] if k.lower() != "content-length"],
                json.dumps(doc).encode(),
            )
        if resp[0] == 200 and service == "elasticache" and action == "DescribeReplicationGroups":
            return insert(resp, "elasticache", action, "ReplicationGroups", self.cache_groups.get(region or "", []))
        if resp[0] != 200 or service != "rds":
            return resp
        if action == "DescribeDBClusters":
            return insert(resp, "rds", action, "DBClusters", self.docdb_clusters.get(region or "", []))
        if action == "DescribeGlobalClusters":
            return insert(resp, "rds", action, "GlobalClusters", self.docdb_globals)
        if action == "DescribeDBInstances" and self.backup_replicas:
            return self._add_backup_replicas(resp)
        return resp

    def _add_backup_replicas(self, resp: Response) -> Response:
        """Each declared instance's DBInstanceAutomatedBackupsReplications, inside its own DBInstance element."""
        status, reason, headers, data = resp
        text = data.decode()
        shape = _model("rds").shape_for("DBInstance").members["DBInstanceAutomatedBackupsReplications"]
        for name, replicas in self.backup_replicas.items():
            at = text.find(f"<DBInstanceIdentifier>{escape(name)}</DBInstanceIdentifier>")
            end = text.find("</DBInstance>", at)
            if at < 0 or end < 0:
                continue
            links = [{"DBInstanceAutomatedBackupsArn": b["DBInstanceAutomatedBackupsArn"]} for b in replicas]
            xml = f"<DBInstanceAutomatedBackupsReplications>{to_xml(shape, links)}</DBInstanceAutomatedBackupsReplications>"
            text = text[:end] + xml + text[end:]
        return status, reason, [(k, v) for k, v in headers if k.lower() != "content-length"], text.encode()

    def backup_replica(self, instance: str, region: str, *, kms_key_arn: str | None = None) -> str:
        """Declare `instance`'s automated backups replicated to `region`; returns the replicated backups' ARN."""
        arn = f"arn:aws:rds:{region}:{ACCOUNT}:auto-backup:ab-{instance}-{region}"
        backup: dict[str, Any] = {"DBInstanceAutomatedBackupsArn": arn, "Region": region,
                                  "DBInstanceIdentifier": instance, "Encrypted": bool(kms_key_arn)}  # fmt: skip
        if kms_key_arn:
            backup["KmsKeyId"] = kms_key_arn
        self.backup_replicas.setdefault(instance, []).append(backup)
        return arn

    def memorydb_cluster(
        self, name: str, region: str, *, kms_key_arn: str | None = None, multi_region: str | None = None
    ) -> str:
        """Declare a MemoryDB cluster (a Regional cluster of `multi_region` if given); returns its ARN."""
        arn = f"arn:aws:memorydb:{region}:{ACCOUNT}:cluster/{name}"
        cluster: dict[str, Any] = {"Name": name, "ARN": arn, "Status": "available"}
        if kms_key_arn:
            cluster["KmsKeyId"] = kms_key_arn
        if multi_region:
            cluster["MultiRegionClusterName"] = multi_region
        self.memorydb_clusters.setdefault(region, []).append(cluster)
        return arn

    def connect(self, local: tuple[str, str], remote: tuple[str, str], *, status: str = "ACTIVE") -> None:
        """Declare a cross-cluster connection from domain (region, name) `local` to `remote` (inbound there)."""

        def info(where: str, name: str) -> dict[str, Any]:
            return {"AWSDomainInformation": {"OwnerId": ACCOUNT, "DomainName": name, "Region": where}}

        self.inbound.setdefault(remote[0], []).append({
            "LocalDomainInfo": info(*local), "RemoteDomainInfo": info(*remote), "ConnectionMode": "DIRECT",
            "ConnectionId": f"cc-{local[1]}-{remote[1]}", "ConnectionStatus": {"StatusCode": status},
        })  # fmt: skip

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
