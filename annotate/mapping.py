"""Label Studio annotation -> corrected Sentence.

The task's `conllu` is the starting point (everything the interface does not show comes from it); the
annotation's regions and relations overwrite what the layers show. An annotation equal to the prediction gives
back exactly the input sentence. Whatever cannot be mapped is reported as a MappingProblem, never dropped
silently; the Sentence returned next to problems is best effort (the affected part keeps its predicted value).
Design and the annotator's view: docs/labeling-interface.md.

`apply_annotation` runs the mapping as a sequence of steps, each in its own module and each a transform of
the sentence (or of what the steps before it read):

1. mapping_regions.read_result: the result list -> regions by layer; unreadable items are problems.
2. mapping_regions.place_word_regions: word regions trimmed of separators and filed under their token.
3. mapping_words.resegment_tokens: each token's words (segmentation, UPOS, lemma) and which predicted word
   each new one inherits from.
4. mapping_heads: the predicted heads carried through the resegmentation, the relations over them (deps
   layer), and the cycles they make.
5. mapping_renumber.renumber: ids 1..n, heads as ids, enhanced dependencies remapped.
6. mapping_entities.map_entities: entity spans -> token BIO tags.
"""

from __future__ import annotations

from collections.abc import Sequence

from mudawwana.corpus.conllu_io import parse_conllu
from mudawwana.corpus.data_model import Sentence, assign_offsets

from .config import DEFAULT_LAYERS, NER, check_layers
from .mapping_common import ROOT, TOKEN_MISC_KEYS, MappingContext, MappingProblem, WordsView
from .mapping_entities import map_entities
from .mapping_heads import apply_relations, predicted_heads, report_cycles
from .mapping_regions import place_word_regions, read_result, root_region_ids
from .mapping_renumber import renumber
from .mapping_words import report_stray_lemmas, resegment_tokens

__all__ = ["TOKEN_MISC_KEYS", "MappingProblem", "annotation_to_sentence", "apply_annotation"]


def annotation_to_sentence(task_data: dict, result: list[dict], *, layers: Sequence[str] | None = None,
                           ) -> tuple[Sentence, list[MappingProblem]]:
    """Rebuild the corrected sentence from a task's data and one annotation's `result` list.

    `layers`: those of the project's config; by default the ones the task was built for (`data["layers"]`).
    """
    sentences = parse_conllu(task_data["conllu"])
    if len(sentences) != 1:
        raise ValueError(f"task {task_data.get('sent_id')}: `conllu` holds {len(sentences)} sentences, not 1")
    if layers is None:
        layers = task_data.get("layers") or DEFAULT_LAYERS
    sentence = sentences[0]
    return sentence, apply_annotation(sentence, task_data, check_layers(layers), result)


def apply_annotation(sentence: Sentence, task_data: dict, layers: tuple[str, ...], result: list[dict],
                     ) -> list[MappingProblem]:
    """Correct `sentence` (the task's, parsed from its `conllu`) in place with one annotation; the problems."""
    ctx = MappingContext(sentence, WordsView.of(task_data), layers)
    if not ctx.view.describes(sentence):
        # Offsets into a view of another sentence would land on the wrong words: apply none of them.
        ctx.problem("task data is inconsistent: `words`/`word_spans` do not match `conllu`; "
                    "nothing from the annotation was applied")
        return ctx.problems
    regions = read_result(ctx, result)
    region_word = {rid: ROOT for rid in root_region_ids(ctx, regions.root)}
    if ctx.control:
        predicted_words = sentence.words
        predicted = {w.id: (w.head, w.deprel) for w in predicted_words}
        reseg = resegment_tokens(ctx, place_word_regions(ctx, regions.words), regions.lemmas, region_word)
        report_stray_lemmas(ctx, regions.lemmas, region_word)
        heads = predicted_heads(sentence.words, reseg, predicted)
        if "deps" in layers:
            parsed = any(head is not None for head, _ in predicted.values())
            apply_relations(ctx, regions.relations, heads, region_word, parsed)
            report_cycles(ctx, heads, region_word)
        elif regions.relations:
            ctx.problem(f"{len(regions.relations)} relation(s) ignored: the deps layer is off")
        renumber(sentence, heads, predicted_words, reseg)
    elif regions.relations:
        ctx.problem(f"{len(regions.relations)} relation(s) ignored: no word layer is on")
    if NER in layers:
        map_entities(ctx, regions.entities)
    assign_offsets(sentence)
    return ctx.problems
