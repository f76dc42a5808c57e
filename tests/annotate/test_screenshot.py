"""The labeling interface in the real Label Studio UI, through headless Chromium: Arabic laid out right to left in
its own font, one highlighted region per word, the selected word's panel (lemma, segmentation, features), and
corrections made as an annotator makes them (a hotkey; deleting a word and drawing its pieces) come back from
Submit as exactly those changes. (The segmentation actions, the label stream and action counts:
test_editor.py.)

Debian's chromium and Playwright for Python (never `playwright install`: no downloads). Set
MUDAWWANA_UPDATE_SCREENSHOT=1 to refresh docs/editor.png (the README shows it) from this run.
"""

from __future__ import annotations

import copy
import importlib.util
import itertools
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

from mudawwana.annotate.config import DEFAULT_LAYERS, build_config
from mudawwana.annotate.mapping import annotation_to_sentence
from mudawwana.annotate.tasks import sentence_to_task, validate_task
from mudawwana.corpus.conllu_io import format_sentence, read_conllu
from mudawwana.corpus.data_model import Entity, Word

from fixtures_models import SAMPLE
from studio_browser import STYLE, WORDS, annotations_of, logged_in, open_task, used_font

DOCS_PNG = Path(__file__).resolve().parents[2] / "docs" / "editor.png"
LAYERS = (*DEFAULT_LAYERS, "feats")  # the screenshot shows the features panel too
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
    config = build_config(LAYERS)
    task = sentence_to_task(sentence, layers=LAYERS, model_version="sample@1")
    assert validate_task(config, task) == []
    project = client.projects.create(title=title, label_config=config)
    client.projects.import_tasks(id=project.id, request=[task])
    [task_id] = [t.id for t in client.tasks.list(project=project.id)]
    # Tall enough that the screenshot shows the word panel's features and the sentence below it (Label Studio
    # scrolls inside its own panes: a full-page screenshot is the viewport).
    with logged_in(studio, tmp_path, height=1500) as page:
        open_task(page, studio, project.id, task_id)
        yield page, task, task_id


def submit(page, client, task_id: int) -> list[dict]:
    page.keyboard.press("Escape")
    page.click("button:has-text('Submit')")
    return annotations_of(client, task_id)[0].result


def test_editor_is_rtl_and_a_correction_maps_back(studio, ls_client, project_title, tmp_path):
    sentence = sample_sentence()
    shot = tmp_path / "editor.png"
    with editor(studio, ls_client, project_title, sentence, tmp_path) as (page, task, task_id):
        words = page.locator(".mdw-words .lsf-richtext__line, .mdw-words .htx-text").first
        sentence_view = page.locator(".mdw-sentence .lsf-richtext__line, .mdw-sentence .htx-text").first
        assert words.evaluate(STYLE, "direction") == "rtl"
        assert sentence_view.evaluate(STYLE, "direction") == "rtl"
        assert words.evaluate(STYLE, "font-size") == "22px"
        # The font the config asks for, on a word region and on the sentence, is the one Chromium draws with.
        highlights = page.locator(WORDS)
        assert highlights.first.evaluate(STYLE, "font-family").startswith('"Noto Naskh Arabic"')
        assert used_font(page, WORDS)[0] == "Noto Naskh Arabic"
        assert used_font(page, ".mdw-sentence .lsf-richtext__line")[0] == "Noto Naskh Arabic"
        assert float(highlights.first.evaluate("el => getComputedStyle(el, '::after').fontSize")[:-2]) >= 12
        # One highlight per word, and the first word lies right of the second: laid out right to left.
        assert highlights.count() == len(sentence.words)
        first, second = (highlights.nth(i).bounding_box() for i in (0, 1))
        assert first["x"] > second["x"]
        assert page.locator(".mdw-sentence .htx-highlight").count() == 1  # the PER entity
        # Select the three-word token's verb: its panel opens (lemma, segmentation, features), as an annotator sees it.
        page.locator(WORDS, has_text="يجعل").first.click()
        lemma = page.locator(".mdw-lemma [data-testid=htx-textbox-content]").first
        lemma.wait_for(state="visible", timeout=10_000)
        assert lemma.inner_text().strip() == "جَعَل"  # the verb's predicted lemma, ready to edit
        assert lemma.evaluate(STYLE, "direction") == "rtl"
        assert page.locator(".mdw-seg [data-testid=htx-textbox-content]").first.inner_text().strip() == "و+يجعل+ه"
        aspect = page.locator(".mdw-feat", has_text="Aspect")
        assert aspect.locator("input[type=checkbox]:checked").count() == 1  # Aspect=Imp, prefilled
        assert page.locator(".mdw-feat", has_text="Case").count() == 0 or not page.locator(
            ".mdw-feat", has_text="Case").first.is_visible()  # a verb is offered no Case
        page.wait_for_timeout(500)
        page.screenshot(path=str(shot), full_page=True)
        # A correction as an annotator makes it: the selected word's tag by its hotkey (n = NOUN).
        page.keyboard.press("n")
        page.wait_for_selector(f"{WORDS}[data-label$=':NOUN']:has-text('يجعل')", state="attached", timeout=10_000)
        result = submit(page, ls_client, task_id)

    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 30_000
    if os.environ.get("MUDAWWANA_UPDATE_SCREENSHOT"):
        shutil.copyfile(shot, DOCS_PNG)
    # What the real UI stores maps back to the sentence with exactly that one change.
    got, problems = annotation_to_sentence(task["data"], result, layers=LAYERS)
    assert problems == []
    expected = copy.deepcopy(sentence)
    next(w for w in expected.words if w.form == "يجعل").upos = "NOUN"
    assert format_sentence(got) == format_sentence(expected)


def test_resegmenting_in_the_editor_maps_back(studio, ls_client, project_title, tmp_path):
    """Split فوز (word 1) by drawing: delete its region (Backspace), pick a tag, select each piece (still works,
    for pieces that need their own tag; the segmentation actions are quicker: test_editor.py)."""
    sentence = sample_sentence()
    with editor(studio, ls_client, project_title, sentence, tmp_path) as (page, task, task_id):
        highlights = page.locator(WORDS)
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

    got, problems = annotation_to_sentence(task["data"], result, layers=LAYERS)
    assert problems == []
    expected = copy.deepcopy(sentence)
    old = expected.tokens[0].words[0]  # فوز: nsubj of the verb; the bigger piece takes its place
    expected.tokens[0].words = [Word(1, "فو", "_", "NOUN", head=old.head, deprel=old.deprel),
                                Word(-1, "ز", "_", "PRON", head=1, deprel="dep")]
    expected.renumber()
    assert format_sentence(got) == format_sentence(expected)
    assert format_sentence(got).splitlines()[5] == "1-2\tفوز\t_\t_\t_\t_\t_\t_\t_\t_"
