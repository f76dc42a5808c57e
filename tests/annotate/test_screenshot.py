"""The labeling interface in the real Label Studio UI, through headless Chromium: Arabic laid out right to left,
one highlighted region per word, and corrections made as an annotator makes them (a hotkey; deleting a word and
selecting its pieces) come back from Submit as exactly those changes.

Debian's chromium and Playwright for Python (never `playwright install`: no downloads). Set
MUDAWWANA_UPDATE_SCREENSHOT=1 to refresh docs/editor.png (the README shows it) from this run.
"""

from __future__ import annotations

import copy
import importlib.util
import itertools
import os
import shutil
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from mudawwana.annotate.config import DEFAULT_LAYERS, build_config
from mudawwana.annotate.mapping import annotation_to_sentence
from mudawwana.annotate.tasks import sentence_to_task, validate_task
from mudawwana.corpus.conllu_io import format_sentence, read_conllu
from mudawwana.corpus.data_model import Entity, Word

from fixtures_models import SAMPLE

CHROMIUM = "/usr/bin/chromium"
DOCS_PNG = Path(__file__).resolve().parents[2] / "docs" / "editor.png"
# Offline and quiet (docs/label-studio.md, "Browser").
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
STYLE = "(el, p) => getComputedStyle(el).getPropertyValue(p)"
# Selects characters [a, b) of the words view as a mouse would, then releases the "mouse" there: Label Studio
# turns a selection into a region with the active label on mouseup.
SELECT_JS = """([a, b]) => {
  const line = document.querySelector('.mdw-words .lsf-richtext__line');
  const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
  let pos = 0, node, start, end;
  while ((node = walker.nextNode())) {
    const len = node.textContent.length;
    if (!start && a < pos + len) start = [node, a - pos];
    if (!end && b <= pos + len) { end = [node, b - pos]; break; }
    pos += len;
  }
  const range = document.createRange();
  range.setStart(...start);
  range.setEnd(...end);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  const box = range.getBoundingClientRect();
  line.dispatchEvent(new MouseEvent('mouseup', {bubbles: true, clientX: box.left + 1, clientY: box.top + 1}));
}"""

pytestmark = [pytest.mark.slow, pytest.mark.labelstudio]


def _with_mwts():
    """test_mapping.with_mwts: PUD's glued clitic tokens as stanza-style multi-word tokens."""
    spec = importlib.util.spec_from_file_location("_mapping_tests", Path(__file__).with_name("test_mapping.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.with_mwts


def sample_sentence():
    """فوز دونالد ترامب سيثير قلق العالم ... ويجعله ...: a short sentence with clitics (و+يجعل+ه) and a name."""
    sentence = _with_mwts()(next(itertools.islice(read_conllu(SAMPLE), 185, None)))
    forms = [t.form for t in sentence.tokens]
    start = forms.index("دونالد")
    sentence.set_entities([Entity(start, start + 2, "PER")])
    assert any(len(t.words) == 3 for t in sentence.tokens)
    return sentence


@contextmanager
def editor(studio, client, title: str, sentence, tmp_path: Path):
    """Import the sentence as a task into a new project and yield (page, task, task id) with its editor open."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: `apt-get install chromium` (CI installs it)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package (test extra) is missing")
    username = studio.username or os.environ.get("MUDAWWANA_TEST_LS_USERNAME")
    password = studio.password or os.environ.get("MUDAWWANA_TEST_LS_PASSWORD")
    if not (username and password):
        pytest.skip("external Label Studio without MUDAWWANA_TEST_LS_USERNAME/PASSWORD: cannot log into the UI")
    config = build_config(DEFAULT_LAYERS)
    task = sentence_to_task(sentence, layers=DEFAULT_LAYERS, model_version="sample@1")
    assert validate_task(config, task) == []
    project = client.projects.create(title=title, label_config=config)
    client.projects.import_tasks(id=project.id, request=[task])
    [task_id] = [t.id for t in client.tasks.list(project=project.id)]
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium"), executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS,
            env={**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "xdg")}, viewport={"width": 1400, "height": 900})
        try:
            page = browser.new_page()
            page.goto(f"{studio.url}/user/login/")
            page.fill("input[name=email]", username)
            page.fill("input[name=password]", password)
            page.click("button[type=submit]")
            page.wait_for_load_state("networkidle")
            page.goto(f"{studio.url}/projects/{project.id}/data?task={task_id}")
            page.wait_for_selector(".htx-highlight", state="attached", timeout=120_000)
            page.wait_for_timeout(1500)  # fonts and the region layout settle
            yield page, task, task_id
        finally:
            browser.close()


def submit(page, client, task_id: int, timeout: float = 60) -> list[dict]:
    page.keyboard.press("Escape")
    page.click("button:has-text('Submit')")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        annotations = client.annotations.list(id=task_id)
        if annotations:
            return annotations[0].result
        time.sleep(0.5)
    raise AssertionError(f"no annotation saved for task {task_id} within {timeout} s of Submit")


def test_editor_is_rtl_and_a_correction_maps_back(studio, ls_client, project_title, tmp_path):
    sentence = sample_sentence()
    shot = tmp_path / "editor.png"
    with editor(studio, ls_client, project_title, sentence, tmp_path) as (page, task, task_id):
        words = page.locator(".mdw-words .lsf-richtext__line, .mdw-words .htx-text").first
        sentence_view = page.locator(".mdw-sentence .lsf-richtext__line, .mdw-sentence .htx-text").first
        assert words.evaluate(STYLE, "direction") == "rtl"
        assert sentence_view.evaluate(STYLE, "direction") == "rtl"
        assert words.evaluate(STYLE, "font-size") == "22px"
        # One highlight per word, and the first word lies right of the second: laid out right to left.
        highlights = page.locator(".mdw-words .htx-highlight")
        assert highlights.count() == len(sentence.words)
        first, second = (highlights.nth(i).bounding_box() for i in (0, 1))
        assert first["x"] > second["x"]
        assert page.locator(".mdw-sentence .htx-highlight").count() == 1  # the PER entity
        # Select the three-word token's verb: its lemma box opens, as an annotator would see it.
        page.locator(".mdw-words .htx-highlight", has_text="يجعل").first.click()
        lemma = page.locator(".mdw-lemma [data-testid=htx-textbox-content]").first
        lemma.wait_for(state="visible", timeout=10_000)
        assert lemma.inner_text().strip() == "جَعَل"  # the verb's predicted lemma, ready to edit
        assert lemma.evaluate(STYLE, "direction") == "rtl"
        page.wait_for_timeout(500)
        page.screenshot(path=str(shot), full_page=True)
        # A correction as an annotator makes it: the selected word's tag by its hotkey (n = NOUN).
        page.keyboard.press("n")
        page.wait_for_selector(".mdw-words .htx-highlight[data-label$=':NOUN']:has-text('يجعل')",
                               state="attached", timeout=10_000)
        result = submit(page, ls_client, task_id)

    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 30_000
    if os.environ.get("MUDAWWANA_UPDATE_SCREENSHOT"):
        shutil.copyfile(shot, DOCS_PNG)
    # What the real UI stores maps back to the sentence with exactly that one change.
    got, problems = annotation_to_sentence(task["data"], result, layers=DEFAULT_LAYERS)
    assert problems == []
    expected = copy.deepcopy(sentence)
    next(w for w in expected.words if w.form == "يجعل").upos = "NOUN"
    assert format_sentence(got) == format_sentence(expected)


def test_resegmenting_in_the_editor_maps_back(studio, ls_client, project_title, tmp_path):
    """Split فوز (word 1) the annotator's way: delete its region (Backspace), pick a tag, select each piece."""
    sentence = sample_sentence()
    with editor(studio, ls_client, project_title, sentence, tmp_path) as (page, task, task_id):
        highlights = page.locator(".mdw-words .htx-highlight")
        highlights.first.click()
        page.keyboard.press("Backspace")
        page.wait_for_function("n => document.querySelectorAll('.mdw-words .htx-highlight').length === n",
                               arg=len(sentence.words) - 1)
        for label, (a, b) in (("NOUN", (0, 2)), ("PRON", (2, 3))):
            page.locator(".lsf-label", has_text=label).first.click()
            page.evaluate(SELECT_JS, [a, b])
            page.keyboard.press("Escape")
        assert highlights.count() == len(sentence.words) + 1
        result = submit(page, ls_client, task_id)

    got, problems = annotation_to_sentence(task["data"], result, layers=DEFAULT_LAYERS)
    assert problems == []
    expected = copy.deepcopy(sentence)
    old = expected.tokens[0].words[0]  # فوز: nsubj of the verb; the bigger piece takes its place
    expected.tokens[0].words = [Word(1, "فو", "_", "NOUN", head=old.head, deprel=old.deprel),
                                Word(-1, "ز", "_", "PRON", head=1, deprel="dep")]
    expected.renumber()
    assert format_sentence(got) == format_sentence(expected)
    assert format_sentence(got).splitlines()[5] == "1-2\tفوز\t_\t_\t_\t_\t_\t_\t_\t_"
