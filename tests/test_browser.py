"""The HTML report in a real browser: Debian's headless Chromium, driven by Playwright (never its own browser download).

Skips, saying why, where Playwright or Chromium is missing (`.ci/run` installs Chromium where it can: apt, as root).
`make screenshots` runs the screenshot test on the demo report and writes docs/screenshots/report-{light,dark}.png.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from residency_audit import report
from residency_audit.classify import viewpoint
from residency_audit.knowledge import load
from residency_audit.model import Copy, CopyRole, KeyControl, Provider, Resource
from residency_audit.pipeline import ScanResult, assess_all, locate
from residency_audit.reporters import html

from .conftest import BIN
from .test_reporters import make_report

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HOSTILE = [
    "<script>window.__pwned=1</script>",
    '<img src=x onerror="window.__pwned=1">',
    'x" onmouseover="window.__pwned=1" data-x="',
    "javascript:window.__pwned=1",
    "</td></tr></table><script>window.__pwned=1</script>",
    "<svg onload=window.__pwned=1>",
    "\u202egnp.exe\u202c",  # right-to-left override
    "\u200fמסד-נתונים\u200f",  # right-to-left mark around Hebrew
    "{{constructor.constructor('window.__pwned=1')()}}",
    "n" * 5000,  # very long, no break opportunity
]


def _chromium() -> str | None:
    for candidate in (os.environ.get("RESIDENCY_AUDIT_CHROMIUM"), shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One Chromium for the module, with a fresh profile directory."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright is not installed: pip install -e '.[test]'")
    executable = _chromium()
    if executable is None:
        pytest.skip("no Chromium: apt-get install chromium (or set RESIDENCY_AUDIT_CHROMIUM to a Chromium binary)")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=executable,
            args=CHROMIUM_FLAGS,
            headless=True,
            viewport={"width": 1280, "height": 900},
        )
        try:
            yield context
        finally:
            context.close()


class Visit:
    """A page opened on a local file, recording console messages, page errors, dialogs and every request."""

    def __init__(self, context: Any, path: Path, scheme: str = "light") -> None:
        self.console: list[str] = []
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.page = context.new_page()
        self.page.emulate_media(color_scheme=scheme)
        self.page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        # anything but the report itself is refused before it leaves the machine (and recorded above)
        self.page.route(lambda url: not url.startswith("file:"), lambda route: route.abort())
        self.url = path.resolve().as_uri()
        self.page.goto(self.url, wait_until="load")

    def close(self) -> None:
        self.page.close()

    def assert_quiet(self) -> None:
        """No console error or warning, no uncaught exception, no dialog, no request but the page itself."""
        assert [m for m in self.console if m.startswith(("error", "warning"))] == []
        assert self.errors == [] and self.dialogs == []
        assert self.requests == [self.url]


def _write(tmp: Path, rep: dict[str, Any], name: str = "report.html") -> Path:
    path = tmp / name
    path.write_text(html.render(rep, source_file="profiles/eu-gdpr.toml"), encoding="utf-8")
    return path


def test_report_loads_offline_with_no_console_error_and_the_map_renders(browser: Any, tmp_path: Path) -> None:
    visit = Visit(browser, _write(tmp_path, make_report()))
    try:
        page = visit.page
        visit.assert_quiet()
        box = page.locator("svg.map").bounding_box()
        assert box and box["width"] > 1000 and box["height"] > 300
        # the map sits above the tables
        assert box["y"] < page.locator("#t-resources").bounding_box()["y"]
        fills = page.evaluate(
            """() => Object.fromEntries(['home', 'foreign', 'land'].map(c =>
                 [c, getComputedStyle(document.querySelector('svg.map path.' + c)).fill]))"""
        )
        assert len(set(fills.values())) == 3, fills  # home, foreign and plain land are told apart
        assert page.locator("svg.map path.foreign").count() == 3  # US, Brazil, Singapore (also a dot: too small)
        assert page.locator("svg.map circle.foreign").count() == 1
        # the script ran: filter bars shown, rows sorted worst first
        assert page.locator("#f-resources").is_visible()
        levels = page.locator("#t-resources tbody tr td:first-child").all_inner_texts()
        assert levels == ["unknown", "critical", "critical", "critical", "high", "medium", "medium"]
    finally:
        visit.close()


def test_thousands_of_resources_sort_and_filter(browser: Any, tmp_path: Path) -> None:
    rep = make_report(extra_resources=3000)
    visit = Visit(browser, _write(tmp_path, rep))
    try:
        page = visit.page
        visit.assert_quiet()
        assert page.locator("#f-resources .count").inner_text() == "3007 rows, the first 500 shown"
        assert page.locator("#t-resources tbody tr:not([hidden])").count() == 500
        page.click("#f-resources button")  # show 500 more
        assert page.locator("#t-resources tbody tr:not([hidden])").count() == 1000
        page.select_option("#f-resources select[data-key=level]", "critical")
        assert page.locator("#f-resources .count").inner_text() == "3 of 3007 rows"
        page.select_option("#f-resources select[data-key=country]", "BR")
        assert page.locator("#t-resources tbody tr:not([hidden]) td.nm > bdi").first.inner_text() == "backupsbr"
        page.select_option("#f-resources select[data-key=level]", "")
        page.select_option("#f-resources select[data-key=country]", "")
        page.select_option("#f-resources select[data-key=provider]", "gcp")
        assert page.locator("#f-resources .count").inner_text() == "1 of 3007 rows"
        page.select_option("#f-resources select[data-key=provider]", "")
        page.fill("#f-resources input", "bulk-0299")
        assert page.locator("#f-resources .count").inner_text() == "10 of 3007 rows"  # bulk-02990 … bulk-02999
        page.fill("#f-resources input", "")
        # sort by name: ascending, then descending
        page.click("#t-resources th:nth-child(5) button")
        names = page.locator("#t-resources tbody tr td.nm > bdi").all_inner_texts()
        assert names[:2] == ["backupsbr", "bulk-00000"] and names == sorted(names)
        page.click("#t-resources th:nth-child(5) button")
        assert page.locator("#t-resources tbody tr td.nm > bdi").first.inner_text() == "sessions"
        # findings filter by rule and severity
        page.select_option("#f-findings select[data-key=rule]", "RA001")
        assert page.locator("#f-findings .count").inner_text() == "4 of 8 rows"
        page.select_option("#f-findings select[data-key=severity]", "waived")
        assert page.locator("#f-findings .count").inner_text() == "1 of 8 rows"
        # reasons are written once, below; opening a finding's reasons shows them in place
        row = page.locator("#t-findings tbody tr:not([hidden])")
        row.locator("summary").click()
        assert "primary copy in aws:us-east-1" in row.locator("details").inner_text()
        visit.assert_quiet()
    finally:
        visit.close()


def _hostile_report_json(path: Path) -> None:
    """A saved JSON report whose names, ids, accounts and tags are all hostile, through the real writer."""
    kb = load()
    view = viewpoint(kb, ["EEA"])
    raw = [
        Resource(
            Provider.AWS,
            name,
            "s3",
            "AWS::S3::Bucket",
            f"arn:aws:s3:::{name}",
            name,
            (Copy("eu-central-1", CopyRole.PRIMARY), Copy("us-east-1", CopyRole.REPLICA)),
            KeyControl.PROVIDER_MANAGED,
            {name: name},
        )
        for name in HOSTILE
    ]
    result = ScanResult(tuple(assess_all(kb, locate(kb, raw), view)), ())
    now = datetime.now(UTC)
    report.write_atomic(path, report.iter_json(result, view, report.Meta("scan", None, now, now)))


def test_hostile_names_execute_nothing(browser: Any, tmp_path: Path) -> None:
    saved = tmp_path / "hostile.json"
    _hostile_report_json(saved)
    out = tmp_path / "hostile.html"
    proc = subprocess.run(
        [BIN, "check", str(saved), "--profile", "eu-sovereign", "--format", "html", "--output", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr  # the US replicas violate eu-sovereign
    visit = Visit(browser, out)
    try:
        page = visit.page
        page.hover("#t-resources tbody tr td.nm")  # an injected onmouseover would fire now
        page.click("#t-resources th:nth-child(5) button")
        visit.assert_quiet()  # an injected script blocked by the CSP would log an error here
        assert page.evaluate("() => window.__pwned") is None
        assert (
            page.locator("script").count() == 2
            and page.locator("img, iframe, a:not([href^='#why-']), svg:not(.map)").count() == 0
        )
        shown = set(page.locator("#t-resources td.nm > bdi").all_inner_texts())
        assert shown == set(HOSTILE)  # every name printed literally
        # the very long name wraps inside the page instead of widening it
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 1280
    finally:
        visit.close()


def test_screenshots_light_and_dark(browser: Any, tmp_path: Path) -> None:
    """The README's screenshots: `make screenshots` points this at the demo report and at docs/screenshots."""
    source = os.environ.get("SCREENSHOT_REPORT")
    out_dir = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    page_path = Path(source) if source else _write(tmp_path, make_report())
    backgrounds = {}
    for scheme in ("light", "dark"):
        visit = Visit(browser, page_path, scheme)
        try:
            visit.assert_quiet()
            backgrounds[scheme] = visit.page.evaluate("() => getComputedStyle(document.body).backgroundColor")
            shot = out_dir / f"report-{scheme}.png"
            visit.page.screenshot(path=str(shot), full_page=False)
            assert shot.stat().st_size > 10_000
        finally:
            visit.close()
    assert backgrounds == {"light": "rgb(255, 255, 255)", "dark": "rgb(18, 20, 23)"}
