"""`--debug` logging: every step and SDK call to stderr, through a filter that redacts credentials.

Nothing is logged unless `--debug` is given. With it, this package logs at DEBUG and so do the SDKs' loggers (boto3 /
botocore, azure-core / azure-identity / msal, google-auth / google-cloud, urllib3), whose DEBUG output includes request
headers, signing material and token-endpoint answers. Every record passes `RedactingFilter` on its way out, which
removes:

* the values of the credential environment variables that are set (`SECRET_ENV_VARS`), and the secrets inside the
  credential files they name (`GOOGLE_APPLICATION_CREDENTIALS`' private key, client secret and refresh token; the
  web-identity and federated tokens of `AWS_WEB_IDENTITY_TOKEN_FILE` and `AZURE_FEDERATED_TOKEN_FILE`), also in
  base64;
* whatever has the shape of a secret: `Authorization` headers and `Bearer` tokens, SigV4 credentials and signatures,
  `X-Amz-Security-Token`, JSON Web Tokens (`eyJ…`), PEM private keys, and secret fields of JSON, XML, Python reprs and
  query strings (`"access_token": …`, `<SessionToken>…</SessionToken>`, `SecretAccessKey`, `client_secret=`, `sig=` …).

A value redacted once because of its shape (an assumed role's session token in an STS answer) is remembered and
redacted wherever it appears later, whatever the context.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

REDACTED = "<redacted>"

#: Environment variables whose values are credentials (or identify one: an access key id is logged nowhere either).
SECRET_ENV_VARS = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PASSWORD",
    "AZURE_PASSWORD",
    "AZURE_FEDERATED_TOKEN",
    "IDENTITY_HEADER",
    "MSI_SECRET",
    "GOOGLE_OAUTH_ACCESS_TOKEN",
    "CLOUDSDK_AUTH_ACCESS_TOKEN",
)
#: Environment variables naming a file whose whole content is a secret token.
SECRET_FILE_VARS = (
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AZURE_FEDERATED_TOKEN_FILE",
)
#: Fields of a Google credentials file (service account, authorized user, external account) that are secrets.
_GOOGLE_SECRET_FIELDS = ("private_key", "private_key_id", "client_secret", "refresh_token")
#: Loggers `--debug` turns on, besides this package's.
SDK_LOGGERS = (
    "botocore",
    "boto3",
    "urllib3",
    "azure",
    "azure.identity",
    "azure.core.pipeline.policies.http_logging_policy",
    "msal",
    "google",
)
# botocore's event-hook and model-loading chatter: thousands of lines a scan that say nothing about the scan.
_QUIET = ("botocore.hooks", "botocore.loaders", "botocore.regions", "botocore.utils")

_MIN_SECRET = 8  # shorter literal values are not searched for: they would redact ordinary words
_MAX_LEARNED = 10_000

_SECRET_FIELD = (
    r"access_?token|refresh_?token|id_?token|client_?secret|client_?assertion|assertion|private_?key(?:_?id)?"
    r"|secret_?access_?key|secret_?key|session_?token|security_?token|password|passwd|api_?key|credential|secret"
    r"|accessToken|x-amz-security-token|x-ms-token|token"
)
_QUOTED = r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'"
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # PEM private keys, also with JSON's escaped newlines
    (
        re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?-----END [A-Z0-9 ]*PRIVATE KEY-----", re.DOTALL),
        "-----BEGIN PRIVATE KEY-----" + REDACTED + "-----END PRIVATE KEY-----",
    ),
    (re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[^\"']*"), REDACTED),  # a cut-off key
    # JSON Web Tokens (Entra ID and Google ID tokens, service-account assertions, workload identity)
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_-]*){1,2}"), REDACTED),
    # Authorization headers of every scheme, as a header line, a dict entry or a repr
    (
        re.compile(
            r"(?i)(\bauthorization[\"']?\s*[:=]\s*b?[\"']?)(?:bearer|basic|sharedkey|aws4-hmac-sha256|goog4-rsa-sha256)?"
            r"[^\"'\r\n]*"
        ),
        r"\1" + REDACTED,
    ),
    (re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9._~+/=:-]{6,}"), r"\1" + REDACTED),
    # SigV4 in headers and presigned URLs
    (re.compile(r"(?i)(\bCredential=)[^/,\s&\"']+"), r"\1" + REDACTED),  # the access key id; the scope stays
    (re.compile(r"(?i)(\bSignature=)[0-9a-f]{16,}"), r"\1" + REDACTED),
    (re.compile(r"(?im)(^signature:?\s*\n?)[0-9a-f]{64}$"), r"\1" + REDACTED),  # botocore's "Signature:\n<hex>"
    (re.compile(r"(?i)(\bx-amz-security-token[\"']?\s*[:=]\s*[\"']?)[^\s\"',&}]+"), r"\1" + REDACTED),
    # secret fields: JSON and Python reprs, XML elements, query strings and form bodies
    (
        re.compile(rf"(?i)([\"'](?:{_SECRET_FIELD})[\"']\s*:\s*)(?:{_QUOTED}|b{_QUOTED})"),
        r"\1" + f'"{REDACTED}"',
    ),
    (
        re.compile(
            r"(?i)(<(SecretAccessKey|SessionToken|SecurityToken|AccessKeyId|Token|ClientSecret|Password)>)"
            r"[^<]*(</\2>)"
        ),
        r"\1" + REDACTED + r"\3",
    ),
    (
        re.compile(
            r"(?i)([?&;\s](?:access_token|refresh_token|id_token|client_secret|client_assertion|assertion|code|sig"
            r"|password|X-Amz-Signature|X-Amz-Security-Token|X-Amz-Credential|X-Goog-Signature|X-Goog-Credential)=)"
            r"[^&\s\"']+"
        ),
        r"\1" + REDACTED,
    ),
)
# The value captured by each shape, to remember it (group 1 is the prefix kept; the secret is what follows).
_LEARN = (
    re.compile(r"(?i)<(?:SecretAccessKey|SessionToken|AccessKeyId)>([^<]{8,})</"),
    re.compile(
        r"(?i)[\"'](?:access_?token|session_?token|secret_?access_?key|refresh_?token)[\"']\s*:\s*[\"']([^\"']{8,})"
    ),
    re.compile(r"(?i)\bbearer\s+([A-Za-z0-9._~+/=-]{8,})"),
    re.compile(r"(?i)\bx-amz-security-token[\"']?\s*[:=]\s*[\"']?([^\s\"',&}]{8,})"),
)


def _b64_forms(value: str) -> set[str]:
    raw = value.encode()
    forms = {base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()}
    return {f.rstrip("=") for f in forms} | forms


def secrets_from_environment(environ: Mapping[str, str] | None = None) -> set[str]:
    """The secret values the environment holds or points at (credential files are read, never logged)."""
    env = os.environ if environ is None else environ
    found: set[str] = set()
    for name in SECRET_ENV_VARS:
        value = env.get(name, "")
        if value:
            found.add(value)
    for name in SECRET_FILE_VARS:
        found.update(_file_secret(env.get(name)))
    found.update(_google_secrets(env.get("GOOGLE_APPLICATION_CREDENTIALS")))
    return found


def _file_secret(path: str | None) -> set[str]:
    if not path:
        return set()
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read(1_000_000).strip()
    except (OSError, UnicodeDecodeError):
        return set()
    return {text} if text else set()


def _google_secrets(path: str | None) -> set[str]:
    if not path:
        return set()
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError, UnicodeDecodeError):
        return set()
    if not isinstance(data, dict):
        return set()
    found: set[str] = set()
    for field in _GOOGLE_SECRET_FIELDS:
        value = data.get(field)
        if isinstance(value, str) and value:
            found.add(value)
            if "PRIVATE KEY" in value:  # the key's body too, whole and line by line
                lines = [line.strip() for line in value.splitlines() if line.strip() and "-----" not in line]
                found.add("".join(lines))
                found.update(line for line in lines if len(line) >= 40)
    return found


class Redactor:
    """Removes secrets from text: known values (literal and base64) and anything shaped like a credential."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._literals: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        """Redact these values from now on (too-short values are ignored: they would redact ordinary words)."""
        with self._lock:
            before = len(self._literals)
            for secret in secrets:
                secret = secret.strip()
                if len(secret) >= _MIN_SECRET and len(self._literals) < _MAX_LEARNED:
                    self._literals.add(secret)
                    self._literals.update(_b64_forms(secret))
            if len(self._literals) != before:
                # longest first, so a secret containing another is removed whole
                alternatives = sorted(self._literals, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(s) for s in alternatives))

    def __call__(self, text: str) -> str:
        """`text` without secrets."""
        learned = [m.group(1) for pattern in _LEARN for m in pattern.finditer(text)]
        learned = [s for s in learned if REDACTED not in s]
        if learned:
            self.add(learned)
        pattern = self._pattern
        if pattern is not None:
            text = pattern.sub(REDACTED, text)
        for shape, replacement in _PATTERNS:
            text = shape.sub(replacement, text)
        return text


class RedactingFilter(logging.Filter):
    """A handler filter that rewrites each record's message (and traceback) without secrets; drops nothing."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redact = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the formatted message, the exception text and the stack in place."""
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: keep what can be shown
            message = f"{record.msg!r} {record.args!r}"
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is when a record is emitted (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> Any:
        """The current stderr."""
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def setup(environ: Mapping[str, str] | None = None) -> Callable[[], None]:
    """Send DEBUG logs of this package and the SDKs to stderr, redacted; returns the function that undoes it."""
    handler = _StderrHandler()
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(Redactor(secrets_from_environment(environ))))
    root = logging.getLogger()
    changed: list[tuple[logging.Logger, int, bool]] = []
    for name, level in (
        ("residency_audit", logging.DEBUG),
        *((n, logging.DEBUG) for n in SDK_LOGGERS),
        *((n, logging.INFO) for n in _QUIET),
    ):
        logger = logging.getLogger(name)
        changed.append((logger, logger.level, logger.propagate))
        logger.setLevel(level)
        # google-auth turns propagation of "google" off when nobody configured it; --debug is that configuration
        logger.propagate = True
    root.addHandler(handler)

    def teardown() -> None:
        root.removeHandler(handler)
        for logger, level, propagate in changed:
            logger.setLevel(level)
            logger.propagate = propagate

    return teardown


_REASON_LIMIT = 300
# a body an SDK pasted into its message: an XML document (a declaration, or a tag holding a tag) or a JSON object
_BODY = re.compile(r"""(?is)(?:\bb?['"]?<\?xml|\bb?['"]?<[A-Za-z][\w:.-]*[^<>]*>\s*<|\bb?['"]?\{\s*").*""")
_reasons: Redactor | None = None


def redact_reason(text: str) -> str:
    """An error as a report may say it: one line, no response body, no credential, at most 300 characters.

    Every skip reason and note passes here (the connectors' `describe_error`, then the report's skips): the same
    redaction `--debug` applies to logs, after cutting whatever looks like a body (XML or a JSON object) that an
    SDK put into its message, such as botocore's "Unable to parse response …: b'<AssumeRoleResponse>…'".
    """
    global _reasons
    if _reasons is None:
        _reasons = Redactor(secrets_from_environment())
    first = " ".join(text.split())
    cut = _BODY.search(first)
    if cut is not None:
        first = first[: cut.start()].rstrip(" :,-") + " (response body not shown)"
    first = _reasons(first)
    return first if len(first) <= _REASON_LIMIT else first[: _REASON_LIMIT - 1] + "…"
