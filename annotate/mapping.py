"""Label Studio annotation -> corrected Sentence.

The task's `conllu` is the starting point (everything the interface does not show comes from it; for an annotation
of a re-predicted task, the sentence its prediction carries: annotate/prediction_sentence.py); the
annotation's regions and relations overwrite what the layers show. An annotation equal to the prediction gives
back exactly the input sentence. Whatever cannot be mapped is reported as a MappingProblem, never dropped
silently; the Sentence returned next to problems is best effort (the affected part keeps its predicted value).
Design and the annotator's view: docs/labeling-interface.md.

`apply_annotation` runs the mapping as a sequence of steps, each in its own module and each a transform of
the sentence (or of what the steps before it read):

1. mapping_regions.read_result: the result list -> regions and per-region values by layer; unreadable items are
   problems.
2. mapping_regions.place_word_regions: word regions trimmed of separators and filed under their written word
   (a maximal run of the text without whitespace: the unit an annotator re-segments).
3. mapping_words.resegment: each written word's words (mapping_segment: from a typed segmentation, segmentation
   actions or the regions), their UPOS, lemma, features and XPOS, which predicted word each new one inherits
   from, and their tokens in the project's clitic convention (mapping_tokens).
4. mapping_heads: the predicted heads carried through the resegmentation, the relations over them (deps
   layer), and the cycles they make.
5. mapping_renumber.renumber: ids 1..n, heads as ids, enhanced dependencies remapped.
6. mapping_entities.map_entities: entity spans -> token BIO tags.
"""

from __future__ import annotations

from collections.abc import Sequence

from mudawwana.corpus.clitics import CLITICS
from mudawwana.corpus.conllu_io import parse_conllu
from mudawwana.corpus.data_model import Sentence, assign_offsets

from .config import DEFAULT_LAYERS, NER, check_layers
from .mapping_common import ROOT, TOKEN_MISC_KEYS, MappingContext, MappingProblem, WordsView
from .mapping_entities import map_entities
from .mapping_heads import apply_relations, predicted_heads, report_cycles
from .mapping_regions import place_word_regions, read_result, root_region_ids
from .mapping_renumber import renumber
from .mapping_tokens import sentence_clitics
from .mapping_words import report_stray_values, resegment
from .prediction_sentence import strip

__all__ = ["TOKEN_MISC_KEYS", "MappingProblem", "annotation_to_sentence", "apply_annotation", "sentence_clitics"]


def annotation_to_sentence(task_data: dict, result: list[dict], *, layers: Sequence[str] | None = None,
                           clitics: str | None = None) -> tuple[Sentence, list[MappingProblem]]:
    """Rebuild the corrected sentence from a task's data and one annotation's `result` list.

    `layers`: those of the project's config; by default the ones the task was built for (`data["layers"]`).
    `clitics`: how re-segmented written words are written as tokens (corpus/clitics.py: "mwt" multi-word tokens,
    "tokens" glued tokens); by default the convention the pushed sentence shows (mapping_tokens.sentence_clitics).
    """
    sentences = parse_conllu(task_data["conllu"])
    if len(sentences) != 1:
        raise ValueError(f"task {task_data.get('sent_id')}: `conllu` holds {len(sentences)} sentences, not 1")
    if layers is None:
        layers = task_data.get("layers") or DEFAULT_LAYERS
    if clitics is not None and clitics not in CLITICS:
        raise ValueError(f"unknown clitics convention {clitics!r}: use one of {', '.join(CLITICS)}")
    sentence = sentences[0]
    return sentence, apply_annotation(sentence, task_data, check_layers(layers), result, clitics=clitics)


def apply_annotation(sentence: Sentence, task_data: dict, layers: tuple[str, ...], result: list[dict], *,
                     clitics: str | None = None) -> list[MappingProblem]:
    """Correct `sentence` (the task's, parsed from its `conllu`) in place with one annotation; the problems."""
    ctx = MappingContext(sentence, WordsView.of(task_data), layers, clitics or sentence_clitics(sentence))
    if not ctx.view.describes(sentence):
        # Offsets into a view of another sentence would land on the wrong words: apply none of them.
        ctx.problem("task data is inconsistent: `words`/`word_spans` do not match `conllu`; "
                    "nothing from the annotation was applied")
        return ctx.problems
    regions = read_result(ctx, strip(result))  # (a copied prediction's sentence item is not a correction)
    region_word = {rid: ROOT for rid in root_region_ids(ctx, regions.root)}
    if ctx.control:
        predicted_words = sentence.words
        predicted = {w.id: (w.head, w.deprel) for w in predicted_words}
        written = ctx.view.written_words(sentence)
        reseg = resegment(ctx, written, place_word_regions(ctx, regions, written), regions, region_word)
        report_stray_values(ctx, regions, region_word)
        heads = predicted_heads(sentence.words, reseg, predicted)
        if "deps" in layers:
            parsed = any(head is not None for head, _ in predicted.values())
            apply_relations(ctx, regions.relations, heads, reseg, parsed)
            report_cycles(ctx, heads, region_word)
        elif regions.relations:
            ctx.problem(f"{len(regions.relations)} relation(s) ignored: the deps layer is off")
        renumber(sentence, heads, predicted_words, reseg)
    elif regions.relations:
        ctx.problem(f"{len(regions.relations)} relation(s) ignored: no word layer is on")
    assign_offsets(sentence)  # merged or split tokens have new spans in the text: the entities are mapped on them
    if NER in layers:
        map_entities(ctx, regions.entities)
    return ctx.problems
