"""What the local AWS endpoint knows of a request before it answers: which call it is, and its faults.

A request is named by its SigV4 credential scope (service, region) and its action (X-Amz-Target, ``Action=``, S3's
REST shape, or a REST-JSON service model's request URIs); a :class:`Fault` rule matches on those names and, when it
fires with ``mode="error"``, is answered in the wire shape of the request's protocol.
"""

from __future__ import annotations

import functools
import http.client
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

from . import aws_inventory
from .aws_wire import _Response
from .base import FaultMode

_SCOPE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
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


def s3_error(status: int, code: str, message: str, extra: str = "") -> _Response:
    """An S3 REST-XML error; ``extra`` is XML added inside ``<Error>`` (a redirect's ``<Endpoint>``)."""
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


def error_response(rec: RequestRecord, request_headers: Any, fault: Fault) -> _Response:
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
        return s3_error(fault.status, fault.code, fault.message)
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


def classify(method: str, raw_path: str, headers: Any, body: bytes) -> RequestRecord:
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
_REST_JSON = {
    "backup": "backup",
    "docdb-elastic": "docdb-elastic",
    "elasticfilesystem": "efs",
    "es": "opensearch",
    "observabilityadmin": "observabilityadmin",
}


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
