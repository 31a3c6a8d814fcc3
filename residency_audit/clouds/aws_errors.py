"""AWS errors: a one-line, credential-free reason for a failed call, and a malformed JSON body treated as a fault.

Kept apart from clouds/aws.py (sessions, accounts, regions) so each module has one job; clouds.aws re-exports
`describe_error` and `error_code`, which every store module uses.
"""

from __future__ import annotations

import json
from typing import Any


def describe_error(exc: BaseException) -> str:
    """A one-line, credential-free reason for a failed AWS call: no response body, redacted as `--debug` logs are."""
    from ..logs import redact_reason

    return redact_reason(_describe_error(exc))


def _describe_error(exc: BaseException) -> str:
    from botocore.exceptions import (
        ClientError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        ReadTimeoutError,
    )

    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        op = getattr(exc, "operation_name", "?")
        return f"{err.get('Code', 'Error')} on {op} (HTTP {status}): {err.get('Message', '').strip()}".rstrip(": ")
    if isinstance(exc, NoCredentialsError):
        return "no AWS credentials found (set AWS_PROFILE / --aws-profile, or run `aws sso login`)"
    if isinstance(exc, EndpointConnectionError | ConnectTimeoutError):
        return f"endpoint unreachable: {exc}"
    if isinstance(exc, ReadTimeoutError):
        return f"timed out: {exc}"
    return f"{type(exc).__name__}: {exc}"


def error_code(exc: BaseException) -> str | None:
    """The service's error code of a botocore ClientError, if any."""
    response = getattr(exc, "response", None)
    return response.get("Error", {}).get("Code") if isinstance(response, dict) else None


def malformed_json(response: Any, attempts: int, operation: Any, max_attempts: int, **_: Any) -> float | None:
    """A 2xx answer whose JSON body does not parse is retried like a dropped connection, then is an error."""
    if response is None or not 200 <= response[0].status_code < 300:
        return None
    protocol = getattr(operation.service_model, "resolved_protocol", None) or operation.metadata.get("protocol")
    body = response[0].content
    if protocol not in ("json", "rest-json") or not body:
        return None
    try:
        json.loads(body)
        return None
    except ValueError:
        if attempts < max_attempts:
            return float(min(0.2 * 2 ** (attempts - 1), 2.0))
        from botocore.parsers import ResponseParserError

        raise ResponseParserError(
            f"malformed or truncated JSON body in the {operation.name} response ({len(body)} bytes), after {attempts} "
            "attempts"
        ) from None
