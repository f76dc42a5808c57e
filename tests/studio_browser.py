"""The real Label Studio editor in headless Chromium, for tests/annotate/test_editor.py and test_screenshot.py.

Debian's chromium and Playwright for Python (never `playwright install`: no downloads), logged in as the test
server's user. `Actions` counts what an annotator does (each click and each key press is one action)."""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
# Offline and quiet (docs/label-studio.md, "Browser").
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
STYLE = "(el, p) => getComputedStyle(el).getPropertyValue(p)"
WORDS = ".mdw-words .htx-highlight"


@contextmanager
def logged_in(studio, tmp_path: Path, height: int = 900):
    """A Chromium page logged into the test server (skips where Chromium, Playwright or credentials are missing)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: `apt-get install chromium` (CI installs it)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package (test extra) is missing")
    username = studio.username or os.environ.get("MUDAWWANA_TEST_LS_USERNAME")
    password = studio.password or os.environ.get("MUDAWWANA_TEST_LS_PASSWORD")
    if not (username and password):
        pytest.skip("external Label Studio without MUDAWWANA_TEST_LS_USERNAME/PASSWORD: cannot log into the UI")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium"), executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS,
            env={**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "xdg")}, viewport={"width": 1400, "height": height})
        try:
            page = browser.new_page()
            page.goto(f"{studio.url}/user/login/")
            page.fill("input[name=email]", username)
            page.fill("input[name=password]", password)
            page.click("button[type=submit]")
            page.wait_for_load_state("networkidle")
            yield page
        finally:
            browser.close()


def wait_for_editor(page) -> None:
    page.wait_for_selector(".htx-highlight", state="attached", timeout=120_000)
    page.wait_for_timeout(1500)  # fonts and the region layout settle


def open_task(page, studio, project_id: int, task_id: int) -> None:
    page.goto(f"{studio.url}/projects/{project_id}/data?task={task_id}")
    wait_for_editor(page)


def open_stream(page, studio, project_id: int) -> None:
    """Label Studio's "Label All Tasks": the label stream, where Submit opens the next task."""
    page.goto(f"{studio.url}/projects/{project_id}/data?labeling=1")
    wait_for_editor(page)


def shown_task_id(page) -> int | None:
    """The id of the task the editor shows (the `#id` of the bottom bar: `.lsf-current-task__task-id`, whose
    first text node is the id; the `#` is drawn by CSS)."""
    text = page.evaluate("() => { const e = document.querySelector('.lsf-current-task__task-id'); "
                         "return e && e.firstChild ? e.firstChild.textContent.trim() : null }")
    return int(text) if text and text.isdigit() else None


def annotations_of(client, task_id: int, n: int = 1, timeout: float = 60) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        annotations = client.annotations.list(id=task_id)
        if len(annotations) >= n:
            return annotations
        time.sleep(0.5)
    raise AssertionError(f"no annotation saved for task {task_id} within {timeout} s of Submit")


def used_font(page, selector: str) -> list[str]:
    """The fonts Chromium actually drew the first element matching `selector` with (DevTools protocol)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    return [f["familyName"] for f in cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]]


@dataclass
class Actions:
    """Every click and key press an annotator makes, counted per correction."""

    page: object
    counts: dict[str, int] = field(default_factory=dict)
    current: str = ""

    def correction(self, name: str) -> Actions:
        self.current = name
        self.counts[name] = 0
        return self

    def click(self, locator) -> None:
        locator.click()
        self.counts[self.current] += 1
        self.page.wait_for_timeout(250)

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)
        self.counts[self.current] += 1
        self.page.wait_for_timeout(150)

    def word(self, text: str):
        return self.page.locator(WORDS, has_text=text).first
