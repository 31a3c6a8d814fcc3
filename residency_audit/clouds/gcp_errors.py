"""Google Cloud errors: one credential-free line per failed call, and the API's own error body read as an exception.

An API that is off in a project answers 403 with a google.rpc.ErrorInfo whose reason is SERVICE_DISABLED: the
error names the API, so that service's task is one skip naming it, and the project's other services go on.
"""

from __future__ import annotations

from typing import Any


class GcpCallError(Exception):
    """A call that failed, already described in one credential-free line."""


class GcpApiError(GcpCallError):
    """A Google API answered with an error: which call, the HTTP status and the API's own reason and message."""

    def __init__(self, operation: str, status: int, reason: str, message: str) -> None:
        super().__init__(f"{reason} on {operation} (HTTP {status}): {message}".rstrip(": "))
        self.operation = operation
        self.status = status
        self.reason = reason


# operation (as the stores name their calls) → the IAM permission that allows it (docs/permissions.md): a 403 says
# which one is missing. Only the listings whose denial would otherwise hide a whole scope are named here.
PERMISSIONS = {
    "resourcemanager projects.search": "resourcemanager.projects.get",
    "resourcemanager folders.list": "resourcemanager.folders.list",
    "logging sinks.list": "logging.sinks.list",
    "compute snapshots.list": "compute.snapshots.list",
    "compute regions.list": "compute.regions.list",
    "compute regionSnapshots.list": "compute.snapshots.list",
}


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
    needs = PERMISSIONS.get(operation) if resp.status_code == 403 and reason != "SERVICE_DISABLED" else None
    # which permission grants the read, whatever Google's message says (it may name none): kept within the line
    message = one_line(message, 250 if needs else 300)
    if needs:
        message = f"{message} (needs {needs})".lstrip()
    return GcpApiError(operation, resp.status_code, reason, message)


def _service_disabled(err: dict[str, Any]) -> str | None:
    """The API named by a google.rpc.ErrorInfo with reason SERVICE_DISABLED (HTTP 403), if the error has one."""
    for detail in err.get("details") or []:
        if isinstance(detail, dict) and detail.get("reason") == "SERVICE_DISABLED":
            service = (detail.get("metadata") or {}).get("service")
            return str(service) if service else "Google Cloud"
    return None
