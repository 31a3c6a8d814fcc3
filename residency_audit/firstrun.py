"""What a first run without credentials needs to hear: per cloud, one line saying what is missing and how to fix it.

The connectors report a cloud whose credential chain failed as one skip scoped to the whole cloud (scope = the
provider's name), with a reason that starts with the marker below; this module only recognises those skips.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .model import Skip

# the start of each connector's reason for a failed credential chain (connectors' describe_error)
MARKERS = {
    "aws": "no AWS credentials",
    "azure": "no Azure credentials",
    "gcp": "no usable Google Cloud credentials",
}
HOW = {
    "aws": "AWS: no credentials found; use --aws-profile NAME or AWS_PROFILE (run `aws sso login` first for SSO), "
    "or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
    "azure": "Azure: no credentials; run `az login`, or set AZURE_TENANT_ID, AZURE_CLIENT_ID and "
    "AZURE_CLIENT_SECRET (a service principal), or use a workload or managed identity",
    "gcp": "Google Cloud: no usable credentials; run `gcloud auth application-default login`, or set "
    "GOOGLE_APPLICATION_CREDENTIALS to a service-account key file",
}


def missing_credentials(skipped: Iterable[Skip]) -> dict[str, str]:
    """Clouds whose scan stopped at the credential step, each with its one-line hint (and the cause, if named)."""
    found: dict[str, str] = {}
    for s in skipped:
        provider = str(s.provider)
        marker = MARKERS.get(provider)
        if marker is None or s.scope != provider or not s.reason.startswith(marker):
            continue
        # Google's reason ends with the cause ("File x.json was not found."): worth the half line it costs
        cause = s.reason.split("): ", 1)[1] if "): " in s.reason else ""
        found[provider] = HOW[provider] + (f" ({cause.rstrip('.')})" if cause else "")
    return found


def nothing_readable(providers: Sequence[str], skipped: Iterable[Skip]) -> dict[str, str] | None:
    """The hints when every selected cloud lacked credentials (nothing at all could be read), else None."""
    missing = missing_credentials(skipped)
    return missing if providers and set(providers) <= set(missing) else None
