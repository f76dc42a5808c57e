"""`mudawwana convert`: a CoNLL-U file with its Arabic clitics as multi-word tokens (UD Arabic-PADT, stanza's
official models) or as separate glued tokens (UD Arabic-PUD); a thin layer over corpus.clitics."""

from __future__ import annotations

from pathlib import Path

import typer

from mudawwana.corpus.clitics import convert_clitics
from mudawwana.cli.app import app, console, must_exist
from mudawwana.cli.choices import Clitics


@app.command()
def convert(
    corpus: Path = typer.Argument(..., metavar="IN.conllu", dir_okay=False, callback=must_exist,
                                  help="CoNLL-U file to convert."),
    output: Path = typer.Option(..., "--output", "-o", metavar="OUT.conllu", dir_okay=False,
                                help="CoNLL-U file to write (may be IN.conllu itself: it is replaced whole)."),
    clitics: Clitics = typer.Option(..., "--clitics",
                                    help="mwt: clitics as multi-word tokens (و+يجعل+ه in one token "
                                         "ويجعله, as PADT and stanza's official models); tokens: one token "
                                         "per clitic, glued with SpaceAfter=No (as PUD)."),
) -> None:
    """Convert between the two ways UD Arabic writes clitics, keeping every annotation.

    Words, their ids, heads and enhanced DEPS stay as they are; only the tokens change.

    Which clitics are joined, and which multi-word tokens stay one: docs/clitics.md.

    Example: mudawwana convert corpus/data/ar_pud-sample.conllu -o sample-mwt.conllu --clitics mwt
    """
    report = convert_clitics(corpus, output, clitics.value)
    if report.clitics == "mwt":
        done = (f"{report.joined} multi-word tokens made from {report.pieces_joined} glued tokens")
    else:
        done = (f"{report.split} multi-word tokens split into {report.pieces_split} glued tokens")
    console.print(f"Converted {report.sentences} sentences -> {output} (clitics as {clitics.value}): {done}",
                  highlight=False)
    what = "glued runs left as tokens" if report.clitics == "mwt" else "multi-word tokens kept"
    for reason, count in report.kept.most_common():
        examples = "; ".join(report.examples.get(reason, []))
        console.print(f"  {count} {what}: {reason}. E.g. {examples}", highlight=False)
