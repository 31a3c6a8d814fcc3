"""No secrets in output: credentials, tokens and keys never appear in stdout, stderr, any report format or the logs.

Scans of all three local clouds run with sentinel values in every credential the servers accept (the AWS keys and
session token, which moto takes as they come; the Azure token the stand-in `az` hands out; the service-account
private key and the access tokens the GCP server issues) and in the other credential variables, with `--debug` (the
SDKs' own DEBUG output: signed requests, token exchanges, STS answers) and without, writing every report format.
Every byte written is searched for each sentinel, also base64-encoded. Failed sign-ins are checked the same way, and
the redacting filter is tested on its own.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from residency_audit import logs
from residency_audit.cli import app

from .servers.aws import AwsEndpoint
from .servers.azure import AzureEndpoint
from .servers.gcp import GcpEndpoint
from .test_readonly import REGIONS, Clouds, prepare

AWS_KEY_ID = "AKIASENTINEL7KEYID42"
AWS_SECRET = "sentinel/Secret+Access/Key0123456789abcdefXYZ"
AWS_TOKEN = "IQoJb3JpZ2luX2VjEsentinelSessionToken" + "Q" * 60
AZURE_TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJzZW50aW5lbCI6ImF6dXJlIn0.c2VudGluZWwtc2lnbmF0dXJl"
AZURE_SECRET = "sentinel~azure.client-secret_0123456789"
AZURE_CERT_PASSWORD = "sentinel-certificate-password-42"
GCP_TOKEN_PREFIX = "ya29.local-"  # every access token the GCP server issues starts so
FORMATS = ("json", "sarif", "csv", "markdown", "junit", "html", "table")


def forms(secret: str) -> set[str]:
    """A secret and its base64 encodings (standard and URL-safe, padded or not)."""
    raw = secret.encode()
    encoded = {base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()}
    return {secret} | encoded | {e.rstrip("=") for e in encoded}


@pytest.fixture(scope="module")
def clouds() -> Iterator[Clouds]:
    azure = AzureEndpoint()
    azure.token = AZURE_TOKEN  # what the stand-in `az` prints and the server demands
    with AwsEndpoint() as aws, azure, GcpEndpoint() as gcp:
        yield Clouds(aws, azure, gcp)


@pytest.fixture
def sentinels(clouds: Clouds, monkeypatch: pytest.MonkeyPatch) -> dict[str, set[str]]:
    """The estate seeded, the environment full of sentinel credentials; name → the forms to search for."""
    prepare(
        clouds,
        monkeypatch,
        {
            "AWS_ACCESS_KEY_ID": AWS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": AWS_SECRET,
            "AWS_SESSION_TOKEN": AWS_TOKEN,
            "AZURE_CLIENT_SECRET": AZURE_SECRET,
            "AZURE_CLIENT_CERTIFICATE_PASSWORD": AZURE_CERT_PASSWORD,
        },
    )
    key = json.loads(Path(os.environ["GOOGLE_APPLICATION_CREDENTIALS"]).read_text())["private_key"]
    body = "".join(line for line in key.splitlines() if "-----" not in line)
    found = {
        name: forms(value)
        for name, value in (
            ("AWS_ACCESS_KEY_ID", AWS_KEY_ID),
            ("AWS_SECRET_ACCESS_KEY", AWS_SECRET),
            ("AWS_SESSION_TOKEN", AWS_TOKEN),
            ("Azure access token", AZURE_TOKEN),
            ("AZURE_CLIENT_SECRET", AZURE_SECRET),
            ("AZURE_CLIENT_CERTIFICATE_PASSWORD", AZURE_CERT_PASSWORD),
            ("GCP private key", body),
        )
    }
    # any 40-character run of the key is as bad as the whole
    found["GCP private key lines"] = {line for line in key.splitlines() if len(line) >= 40 and "-----" not in line}
    found["GCP access token"] = {GCP_TOKEN_PREFIX}
    return found


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def scan_args(*extra: str) -> list[str]:
    regions = [a for r in REGIONS for a in ("--region", r)]
    return ["scan", "--provider", "aws", "--provider", "azure", "--provider", "gcp", "--org", *regions, *extra]


def leaks(texts: dict[str, str], sentinels: dict[str, set[str]]) -> list[str]:
    return [
        f"{name} in {where}"
        for where, text in texts.items()
        for name, values in sentinels.items()
        if any(v in text for v in values)
    ]


def test_no_secret_in_any_output_or_log(clouds: Clouds, sentinels: dict[str, set[str]], tmp_path: Path) -> None:
    outputs: dict[str, str] = {}
    debug = run("--debug", *scan_args("--format", "json"))
    assert debug.exit_code == 0, debug.stderr[-3000:]
    assert json.loads(debug.stdout)["complete"] is True
    outputs["--debug stdout"], outputs["--debug stderr"] = debug.stdout, debug.stderr
    # the scan writes JSON to a file and SARIF to stdout; the other formats render the same scan through `check`
    saved = tmp_path / "report.json"
    for fmt, output in (("json", ["--output", str(saved)]), ("sarif", [])):
        result = run(*scan_args("--format", fmt, *output))
        assert result.exit_code == 0, result.stderr
        outputs[f"{fmt} stdout"], outputs[f"{fmt} stderr"] = result.stdout, result.stderr
    outputs["json report"] = saved.read_text(encoding="utf-8")
    for fmt in FORMATS:
        target = tmp_path / f"checked.{fmt}"
        result = run("check", str(saved), "--format", fmt, "--output", str(target))
        assert result.exit_code == 0, result.stderr
        outputs[f"{fmt} report"], outputs[f"check {fmt} stderr"] = target.read_text(encoding="utf-8"), result.stderr
    # the scans really signed with, sent and received the sentinels
    assert clouds.aws.counts[("sts", "AssumeRole")] >= 1 and clouds.gcp.counts[("oauth2", "POST", "token")] >= 1
    assert all(r.status < 400 for r in clouds.azure.requests)
    # and --debug really logged the SDKs' requests, redacted
    err = debug.stderr
    for expected in ("botocore.auth", "urllib3", "azure.identity", "google.auth", "Authorization", logs.REDACTED):
        assert expected in err, f"--debug output lacks {expected!r}"
    assert not leaks(outputs, sentinels), leaks(outputs, sentinels)
    # credentials the tool received at run time (the member account's, from STS) are redacted too
    assert not re.search(r"<(SecretAccessKey|SessionToken)>(?!<redacted>)", err)


def test_failed_sign_ins_echo_no_secret(clouds: Clouds, sentinels: dict[str, set[str]], tmp_path: Path) -> None:
    clouds.aws.add_fault(
        "sts",
        None,
        "GetCallerIdentity",
        status=403,
        code="InvalidClientTokenId",
        message="The security token included in the request is invalid.",
    )
    clouds.azure.add_fault(status=401, code="InvalidAuthenticationToken", message="The access token is invalid.")
    clouds.gcp.add_fault("oauth2", "token", status=400, message="invalid_grant: Invalid JWT Signature.")
    outputs: dict[str, str] = {}
    for extra in ((), ("--debug",)):
        target = tmp_path / f"failed{len(extra)}.json"
        result = run(*extra, *scan_args("--format", "json", "--output", str(target)))
        assert result.exit_code == 3, result.stderr[-3000:]
        report = json.loads(target.read_text())
        reasons = "\n".join(s["reason"] for s in report["skipped"])
        assert "InvalidClientTokenId" in reasons and "InvalidAuthenticationToken" in reasons, reasons
        assert "invalid_grant" in reasons, reasons
        outputs[f"report {extra}"], outputs[f"stdout {extra}"] = target.read_text(), result.stdout
        outputs[f"stderr {extra}"] = result.stderr
    assert not leaks(outputs, sentinels), leaks(outputs, sentinels)


def test_describe_error_never_echoes_what_an_exception_carries() -> None:
    """The connectors' one-line reasons use the service's code and message, never headers, bodies or arguments."""
    from azure.core.exceptions import ClientAuthenticationError
    from botocore.exceptions import ClientError
    from google.auth.exceptions import RefreshError

    from residency_audit.clouds import aws, azure, gcp

    aws_error = ClientError(
        {
            "Error": {"Code": "ExpiredToken", "Message": "The security token included in the request is expired"},
            "ResponseMetadata": {
                "HTTPStatusCode": 403,
                "HTTPHeaders": {"x-amz-security-token": AWS_TOKEN, "authorization": f"Credential={AWS_KEY_ID}/x"},
            },
        },
        "ListBuckets",
    )
    assert aws.describe_error(aws_error) == (
        "ExpiredToken on ListBuckets (HTTP 403): The security token included in the request is expired"
    )
    refresh = RefreshError("invalid_grant: Invalid JWT Signature.", {"access_token": GCP_TOKEN_PREFIX + "9"})
    assert GCP_TOKEN_PREFIX not in gcp.describe_error(refresh)
    # azure-identity puts what the credential chain said into the message; a token in it is stripped
    said = f"AzureCliCredential: token Bearer {AZURE_TOKEN}; client_secret={AZURE_SECRET}; access_token: {AZURE_TOKEN}"
    described = azure.describe_error(ClientAuthenticationError(message=said))
    assert AZURE_TOKEN not in described and AZURE_SECRET not in described, described


# --- the redacting filter ----------------------------------------------------------------------------------------

PEM = (
    "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\nAbCd\n-----END PRIVATE KEY-----"
)
SAMPLES = [
    # botocore's DEBUG: the request dict, the canonical request, the signature, an STS answer
    (
        "{'headers': {'Authorization': b'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261127/us-east-1/s3/"
        "aws4_request, SignedHeaders=host;x-amz-date, Signature=" + "ab" * 32 + "'}}",
        ["AKIAIOSFODNN7EXAMPLE", "ab" * 32],
    ),
    (
        "CanonicalRequest:\nGET\n/\n\nhost:s3.amazonaws.com\nx-amz-security-token:FwoGZXIvYXdzEXAMPLETOKEN123\n",
        ["FwoGZXIvYXdzEXAMPLETOKEN123"],
    ),
    ("Signature:\n" + "0f" * 32, ["0f" * 32]),
    (
        "Response body:\nb'<AssumeRoleResult><Credentials><AccessKeyId>ASIAEXAMPLEKEY12345</AccessKeyId>"
        "<SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY</SecretAccessKey>"
        "<SessionToken>FQoGZXIvYXdzEXAMPLESESSION</SessionToken></Credentials>'",
        ["ASIAEXAMPLEKEY12345", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "FQoGZXIvYXdzEXAMPLESESSION"],
    ),
    (
        '{"Credentials": {"AccessKeyId": "ASIAJSONKEY", "SecretAccessKey": "json-secret-123", "SessionToken": "tok-123"}}',
        ["json-secret-123", "tok-123"],
    ),
    # presigned URL
    (
        "GET /b/k?X-Amz-Credential=AKIAPRESIGN%2F2026&X-Amz-Signature=deadbeefdeadbeef&X-Amz-Security-Token=IQoTOKEN",
        ["AKIAPRESIGN", "deadbeefdeadbeef", "IQoTOKEN"],
    ),
    # azure-core / msal / google-auth
    ("Request headers:\n    'Authorization': 'Bearer abc.def-ghi_jkl'", ["abc.def-ghi_jkl"]),
    (
        '{"token_type": "Bearer", "access_token": "ya29.a0AfH6SMBexample", "expires_in": 3599}',
        ["ya29.a0AfH6SMBexample"],
    ),
    ("{'access_token': 'ya29.repr-token', 'id_token': 'x.y.z'}", ["ya29.repr-token", "x.y.z"]),
    ("grant_type=client_credentials&client_secret=s3cr3t-value&client_assertion=abc123", ["s3cr3t-value", "abc123"]),
    ("token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJtZSJ9.c2lnbmF0dXJl in a message", ["eyJhbGciOiJSUzI1NiJ9"]),
    ("https://acct.blob.core.windows.net/c/b?sv=2022-11-02&sig=AbC%2Bdef%3D", ["AbC%2Bdef%3D"]),
    (json.dumps({"private_key": PEM, "client_email": "x@y.iam.gserviceaccount.com"}), ["MIIEvQIBADAN"]),
    (PEM, ["MIIEvQIBADAN", "AbCd"]),
]


@pytest.mark.parametrize(("text", "secrets"), SAMPLES)
def test_redactor_removes_credential_shapes(text: str, secrets: list[str]) -> None:
    redacted = logs.Redactor()(text)
    for secret in secrets:
        assert secret not in redacted, redacted
    assert logs.REDACTED in redacted


def test_redactor_keeps_ordinary_text_and_learns_values() -> None:
    redact = logs.Redactor()
    plain = "GET /subscriptions/x/providers/Microsoft.Storage/storageAccounts?api-version=2023-05-01 200 (AuthorizationFailed)"
    assert redact(plain) == plain
    assert redact("<SessionToken>FQoGLEARNEDTOKEN99</SessionToken>").count("FQoG") == 0
    # seen once in an STS answer, the token is redacted wherever it appears next, in whatever context
    assert "FQoGLEARNEDTOKEN99" not in redact("retrying with FQoGLEARNEDTOKEN99")


def test_redactor_takes_secrets_from_the_environment(tmp_path: Path) -> None:
    key_file = tmp_path / "sa.json"
    key_file.write_text(json.dumps({"type": "service_account", "private_key": PEM, "client_email": "a@b"}))
    token_file = tmp_path / "token"
    token_file.write_text("federated-token-from-file-123\n")
    env = {
        "AWS_SECRET_ACCESS_KEY": AWS_SECRET,
        "AZURE_CLIENT_SECRET": AZURE_SECRET,
        "GOOGLE_APPLICATION_CREDENTIALS": str(key_file),
        "AZURE_FEDERATED_TOKEN_FILE": str(token_file),
        "AWS_REGION": "eu-west-1",
    }
    redact = logs.Redactor(logs.secrets_from_environment(env))
    body = "".join(line for line in PEM.splitlines() if "-----" not in line)
    text = " ".join(
        [
            AWS_SECRET,
            base64.b64encode(AWS_SECRET.encode()).decode(),
            AZURE_SECRET,
            body,
            "federated-token-from-file-123",
        ]
    )
    out = redact(text + " eu-west-1")
    assert not leaks({"out": out}, {"s": {AWS_SECRET, AZURE_SECRET, body, "federated-token-from-file-123"}}), out
    assert base64.b64encode(AWS_SECRET.encode()).decode() not in out
    assert out.endswith("eu-west-1")  # a setting that is not a credential stays


def test_debug_logging_is_redacted_and_removed_afterwards(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AWS_SECRET)
    teardown = logs.setup()
    try:
        logging.getLogger("botocore.endpoint").debug(
            "Sending %s with %r", "request", {"Authorization": f"Bearer {AZURE_TOKEN}"}
        )
        logging.getLogger("residency_audit.test").debug("key %s", AWS_SECRET)
        try:
            raise RuntimeError(f"failed with {AWS_SECRET}")
        except RuntimeError:
            logging.getLogger("google.auth").exception("refresh failed")
    finally:
        teardown()
    err = capsys.readouterr().err
    assert "botocore.endpoint" in err and "residency_audit.test" in err and "RuntimeError" in err
    assert AWS_SECRET not in err and AZURE_TOKEN not in err, err
    logging.getLogger("residency_audit.test").debug("after teardown %s", AWS_SECRET)
    assert capsys.readouterr().err == ""
    assert logging.getLogger("botocore").level == logging.NOTSET
