"""Open HTML files in headless Chromium with the network cut off (test helper).

Uses the ``playwright`` Python package driving Debian's ``chromium`` binary
(``shutil.which("chromium")``) — never a browser downloaded by ``playwright install``.
Every request that is not ``file://`` or ``data:`` is aborted and recorded, so a
page that works here works offline.

Usage in a test::

    from browser import open_in_chromium, require_chromium

    def test_map(tmp_path):
        require_chromium()                      # skip locally, fail in CI, if missing
        report = open_in_chromium(path, screenshot=tmp_path / "map.png",
                                  evaluate={"n": "document.querySelectorAll('path').length"})
        assert report.ok, report.summary()

or, to interact with the page (hover, click) before reading it::

    with chromium_page(path) as session:
        session.page.hover(".leaflet-marker-icon")
        text = session.eval("document.querySelector('.leaflet-tooltip').textContent")
    assert session.report.blocked_requests == []
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def require_chromium() -> str:
    """Path of the Chromium binary; skip the test when Chromium or playwright is
    missing — except in CI (``CI=true``), where a missing browser fails the test."""
    import pytest

    problems = []
    exe = chromium_path()
    if exe is None:
        problems.append("Chromium not found on PATH (Debian: apt-get install -y chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problems.append("the playwright Python package is not installed")
    if problems:
        msg = "browser test needs " + "; ".join(problems)
        if in_ci():
            pytest.fail(f"{msg} (CI=true: browser tests must run in CI)")
        pytest.skip(msg)
    return exe  # type: ignore[return-value]


@dataclass
class BrowserReport:
    """What happened while the page was open."""

    url: str
    leaflet_loaded: bool = False
    requests: list[str] = field(default_factory=list)           # every request seen
    blocked_requests: list[str] = field(default_factory=list)   # aborted: not file:/data:
    failed_requests: list[str] = field(default_factory=list)    # e.g. missing local files
    console_errors: list[str] = field(default_factory=list)
    console_messages: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)            # alert()/confirm() calls
    values: dict[str, Any] = field(default_factory=dict)        # results of `evaluate`
    screenshot: Path | None = None

    @property
    def ok(self) -> bool:
        return (self.leaflet_loaded and not self.blocked_requests and not self.failed_requests
                and not self.console_errors and not self.page_errors and not self.dialogs)

    def summary(self) -> str:
        return (f"{self.url}: L defined={self.leaflet_loaded}, blocked={self.blocked_requests}, "
                f"failed={self.failed_requests}, console errors={self.console_errors}, "
                f"page errors={self.page_errors}, dialogs={self.dialogs}")


@dataclass
class BrowserSession:
    page: Any
    report: BrowserReport

    def eval(self, expression: str) -> Any:
        """Evaluate a JavaScript expression in the page and return its (JSON) value."""
        return self.page.evaluate(expression)


def _is_local(url: str) -> bool:
    return url.startswith(("file://", "data:", "about:", "blob:"))


def _origin(url: str) -> str | None:
    """``http://host:port`` of an http(s) URL (the one server a served page may talk to), else None."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") else None


@contextlib.contextmanager
def chromium_page(html_path: str | os.PathLike, *, viewport: tuple[int, int] = (1100, 750),
                  init_script: str | None = None, settle_ms: int = 300,
                  timeout_ms: int = 30_000) -> Iterator[BrowserSession]:
    """Open ``html_path`` in headless Chromium with all non-local requests blocked.

    Yields a :class:`BrowserSession` (``.page`` is the playwright Page) after the
    ``load`` event and ``settle_ms`` more; the browser closes on exit.
    ``init_script`` runs before any page script (e.g. to trap ``alert``).
    ``html_path`` may also be an ``http://`` URL (a local server such as ``circles serve``):
    then requests to that URL's origin are allowed too, and every other one is blocked.
    """
    from playwright.sync_api import sync_playwright

    exe = chromium_path()
    if exe is None:
        raise FileNotFoundError("Chromium not found on PATH (apt-get install -y chromium)")
    origin = _origin(str(html_path))
    if origin is None:
        path = Path(html_path).resolve()
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such HTML file")
        report = BrowserReport(url=path.as_uri())
    else:
        report = BrowserReport(url=str(html_path))

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(
                viewport={"width": viewport[0], "height": viewport[1]},
                service_workers="block",
                accept_downloads=True,
            )
            context.set_default_timeout(timeout_ms)

            def route(r):
                url = r.request.url
                if _is_local(url) or (origin is not None and (url == origin or url.startswith(origin + "/"))):
                    r.continue_()
                else:
                    report.blocked_requests.append(url)
                    r.abort("internetdisconnected")

            context.route("**/*", route)
            page = context.new_page()
            page.on("request", lambda req: report.requests.append(req.url))

            def on_failed(req):
                if req.url not in report.blocked_requests:
                    report.failed_requests.append(f"{req.url} ({req.failure})")

            page.on("requestfailed", on_failed)

            def on_console(msg):
                text = f"{msg.type}: {msg.text}"
                report.console_messages.append(text)
                if msg.type == "error":
                    report.console_errors.append(msg.text)

            page.on("console", on_console)
            page.on("pageerror", lambda err: report.page_errors.append(str(err)))

            def on_dialog(dialog):
                report.dialogs.append(f"{dialog.type}: {dialog.message}")
                dialog.dismiss()

            page.on("dialog", on_dialog)
            if init_script:
                page.add_init_script(init_script)
            page.goto(report.url, wait_until="load")
            if settle_ms:
                page.wait_for_timeout(settle_ms)
            report.leaflet_loaded = bool(page.evaluate("typeof L !== 'undefined'"))
            yield BrowserSession(page=page, report=report)
        finally:
            browser.close()


def open_in_chromium(html_path: str | os.PathLike, *, evaluate: Mapping[str, str] | None = None,
                     screenshot: str | os.PathLike | None = None,
                     viewport: tuple[int, int] = (1100, 750), init_script: str | None = None,
                     settle_ms: int = 300) -> BrowserReport:
    """Open a page offline, evaluate JS expressions, take a screenshot; return the report.

    ``evaluate`` maps a name to a JavaScript expression; results land in
    ``report.values[name]``.  ``screenshot`` is a PNG path (folders created).
    """
    with chromium_page(html_path, viewport=viewport, init_script=init_script,
                       settle_ms=settle_ms) as session:
        for name, expression in (evaluate or {}).items():
            session.report.values[name] = session.eval(expression)
        if screenshot is not None:
            shot = Path(screenshot)
            shot.parent.mkdir(parents=True, exist_ok=True)
            session.page.screenshot(path=str(shot), full_page=False)
            session.report.screenshot = shot
    return session.report
