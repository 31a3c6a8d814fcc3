"""What the Resource Explorer and Config stand-ins share: the indexed item, paging, and each protocol's envelopes."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

RE_SERVICE = "resource-explorer-2"
MANAGEMENT = "123456789012"
ORG_ID = "o-standin0001"
REPORTED = "2026-11-29T00:00:00Z"

_Response = tuple[int, str, list[tuple[str, str]], bytes]


@dataclass(frozen=True)
class Item:
    """One indexed resource: its Resource Explorer type and its CloudFormation / Config type."""

    account: str
    region: str
    re_type: str  # "s3:bucket"
    cfn_type: str  # "AWS::S3::Bucket"
    arn: str
    name: str
    resource_id: str = ""


class Invalid(Exception):
    status, code = 400, "ValidationException"


class NotFound(Exception):
    status, code = 404, "ResourceNotFoundException"


class Unauthorized(Exception):
    status, code = 401, "UnauthorizedException"


def paged(
    rows: list[Any], key: str, params: dict[str, Any], most: int, *, limit_key: str = "MaxResults"
) -> dict[str, Any]:
    try:
        start = int(params.get("NextToken") or 0)
    except ValueError:
        raise Invalid("invalid NextToken") from None
    size = int(params.get(limit_key) or params.get("MaxResults") or most) or most
    size = min(size, most)
    out: dict[str, Any] = {key: rows[start : start + size]}
    if start + size < len(rows):
        out["NextToken"] = str(start + size)
    return out


def ok(service: str | None, doc: dict[str, Any]) -> _Response:
    ctype = "application/json" if service == RE_SERVICE else "application/x-amz-json-1.1"
    return 200, "OK", [("Content-Type", ctype), ("x-amzn-RequestId", str(uuid.uuid4()))], json.dumps(doc).encode()


def error(service: str | None, status: int, code: str, message: str) -> _Response:
    rid = str(uuid.uuid4())
    if service == RE_SERVICE:
        body = json.dumps({"message": message}).encode()
        headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", code), ("x-amzn-RequestId", rid)]
    else:
        body = json.dumps({"__type": code, "message": message}).encode()
        headers = [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-RequestId", rid)]
    return status, "Error", headers, body
