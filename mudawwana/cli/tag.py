"""`mudawwana tag`: Arabic text -> stanza-tagged CoNLL-U."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from mudawwana.corpus.normalize import NormalizationOptions
from mudawwana.corpus.readers import ReaderOptions
from mudawwana.corpus.tag_job import tag_files
from mudawwana.cli.app import app, console, fail, must_exist
from mudawwana.cli.choices import Device, TxtDocs
from mudawwana.cli.progress import progress_bar


@app.command()
def tag(
    inputs: List[Path] = typer.Argument(..., callback=must_exist,
                                        help="Input files: .txt, .jsonl, .conllu, or a Hugging Face dataset dir."),
    output: Path = typer.Option(..., "--output", "-o", dir_okay=False, help="CoNLL-U file to write."),
    model_dir: Optional[Path] = typer.Option(None, "--model-dir", file_okay=False, callback=must_exist,
                                             help="Local models (written by `mudawwana train`). "
                                             "Default: stanza's official Arabic package."),
    device: Device = typer.Option(Device.auto, help="auto: cuda when torch sees a GPU, else cpu."),
    normalize: Optional[str] = typer.Option(None, "--normalize", help="Normalization steps, comma-separated "
                                            "(default: see README). Example: nfc,tatweel,tashkeel"),
    keep: bool = typer.Option(False, "--keep", help="CoNLL-U input: keep its annotations unchanged as the "
                              "pre-annotation (e.g. an existing treebank to revise)."),
    text_field: str = typer.Option("text", help=".jsonl / dataset: the field holding the text."),
    id_field: str = typer.Option("id", help=".jsonl / dataset: the field holding the document id."),
    txt_docs: TxtDocs = typer.Option(TxtDocs.file, help=".txt: 'file' (one document per file, one paragraph "
                                     "per line) or 'blank-line' (blank lines separate documents)."),
    split: Optional[str] = typer.Option(None, help="Dataset dir: the split to read (default: all)."),
    workers: int = typer.Option(1, "--workers", min=1, help="Tag on N Ray Data workers, each a process with the "
                                "models loaded once (one torch thread each on the CPU; --gpus-per-worker of a GPU "
                                "with --device cuda); same output as 1. Needs Ray: `pip install 'mudawwana\\[ray]'`."),
    ray_address: Optional[str] = typer.Option(None, "--ray-address", help="Run the workers on this Ray cluster "
                                              "(HOST:PORT of `ray start --head`, or 'auto' for the one started "
                                              "on this machine). Default: $RAY_ADDRESS, else Ray starts here."),
    gpus_per_worker: float = typer.Option(1.0, "--gpus-per-worker", min=0.01, help="With --workers and "
                                          "--device cuda: the share of a GPU each worker takes (0.5: two per "
                                          "GPU)."),
) -> None:
    """Tokenize and tag Arabic text with stanza into CoNLL-U (resumable: rerun to continue).

    Text is put in Unicode NFC as it is read; every sentence written passes `udvalidate --lang ar --level 2`
    (one that would not stops the run, naming it). Exit status 1 when every input record was skipped.

    Example: mudawwana tag news.txt -o corpus.conllu --model-dir models/ar-pud

    On a Ray cluster (README, "Tagging on a cluster"): mudawwana tag docs/ -o corpus.conllu --workers 8
    --ray-address HEAD:6379
    """
    try:
        options = NormalizationOptions.from_string(normalize) if normalize else NormalizationOptions()
    except ValueError as e:
        fail(f"--normalize: {e}")
    reader = ReaderOptions(text_field=text_field, id_field=id_field, txt_docs=txt_docs.value, hf_split=split)
    with progress_bar("Tagging", unit="documents") as advance:
        report = tag_files(inputs, output, model_dir=model_dir, device=device.value, normalization=options,
                           reader_options=reader, keep=keep, progress=advance, workers=workers,
                           ray_address=ray_address, gpus_per_worker=gpus_per_worker)
    for skip in report.skipped:
        console.print(f"[yellow]skipped[/] {skip}", highlight=False)
    resumed = f" (resumed after {report.resumed_documents} documents)" if report.resumed_documents else ""
    console.print(f"Tagged {report.documents} documents{resumed}: {report.sentences} sentences -> {output}; "
                  f"{len(report.skipped)} inputs skipped. Model: {report.model_version or 'none (--keep)'}",
                  highlight=False)
    if report.all_skipped:  # a pipeline that tagged nothing must not look like a success
        fail(f"nothing was tagged: every input record was skipped (listed above); {output} was not written")
