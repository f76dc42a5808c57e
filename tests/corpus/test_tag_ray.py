"""`mudawwana tag --workers N` on Ray Data (corpus/tag_ray.py): the same bytes, the same resuming and the same
skip report as one process, with the real tiny stanza model and a real local Ray (one per session, the
`ray_cluster` fixture in tests/conftest.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mudawwana.cli import app
from mudawwana.corpus import tag_ray
from mudawwana.corpus.tag_job import tag_files

pytestmark = pytest.mark.slow

NEWS = ("قال الرئيسُ إنّ الحكومـــة ستعمل على تحسين الاقتصاد. وأضاف أن الخطة ستبدأ العام المقبل.\n"
        "وذكرت الوكالة أن الاجتماع عُقد في القاهرة يوم الأحد 😀 بحضور الوزراء.\n")


def news(i: int) -> str:
    return NEWS.replace("الرئيسُ", f"الرئيس {i}")


@pytest.fixture
def mixed_inputs(tmp_path, sample_path) -> list[Path]:
    """Many documents in every input kind, good and bad records interleaved."""
    inputs = []
    for i in range(3):
        path = tmp_path / f"doc{i}.txt"
        path.write_text(news(i), encoding="utf-8")
        inputs.append(path)
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe\n" + ("\u0628" * 30_000).encode() + b"\nEnglish only\n" + news(9).encode())
    inputs.append(bad)
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    inputs.append(empty)
    records = [{"id": "j1", "text": news(10)}, "not json", {"id": "j2", "body": "no text field"},
               {"id": "j3", "text": "English only"}, {"text": news(11) + news(12)}, {"id": "j5", "text": news(13)}]
    jsonl = tmp_path / "records.jsonl"
    jsonl.write_text("\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records)
                     + "\n", encoding="utf-8")
    inputs.append(jsonl)
    conllu = tmp_path / "treebank.conllu"  # tokenized input: the workers' pretokenized pipeline
    conllu.write_text("\n\n".join(sample_path.read_text(encoding="utf-8").split("\n\n")[:4]) + "\n\n",
                      encoding="utf-8")
    inputs.append(conllu)
    return inputs


def one_process(tiny_pipeline, inputs, out, **kwargs):
    nlp, info = tiny_pipeline
    return tag_files(inputs, out, pipeline=nlp, model_info=info, **kwargs)


def test_two_workers_write_the_same_bytes_and_skip_report_as_one_process(ray_cluster, tiny_pipeline,
                                                                        tiny_model_dir, mixed_inputs, tmp_path):
    expected = one_process(tiny_pipeline, mixed_inputs, tmp_path / "one.conllu", batch_chars=150)
    report = tag_files(mixed_inputs, tmp_path / "ray.conllu", model_dir=tiny_model_dir, device="cpu",
                       batch_chars=150, workers=2)
    assert expected.documents >= 9 and expected.sentences >= 20 and len(expected.skipped) >= 6
    assert (tmp_path / "ray.conllu").read_bytes() == (tmp_path / "one.conllu").read_bytes()
    assert report.skipped == expected.skipped  # the same Skips (file, line, reason), in the same order
    for field in ("documents", "sentences", "tokens", "words", "resumed_documents", "model_version", "written"):
        assert getattr(report, field) == getattr(expected, field), field


def test_an_interrupted_ray_run_resumes_where_it_stopped(ray_cluster, tiny_pipeline, tiny_model_dir, tmp_path,
                                                         monkeypatch):
    """Interrupted after 3 of 6 documents (batches of one), resumed with batches of two: the resumed run starts
    inside a batch ([2, 3] -> [3]) and must then send whole batches ([4, 5]) while it reads ahead of what it has
    written; on Ray it does so in windows of one batch (two Ray Data runs, as a corpus too big for one window
    is tagged). One process doing the same is the reference."""
    inputs = []
    for i in range(6):
        path = tmp_path / f"doc{i}.txt"
        path.write_text(news(i), encoding="utf-8")
        inputs.append(path)
    two_per_batch = len(news(0)) + 1  # the first document leaves the batch open, the second fills it

    def interrupt_after_three(done, total):
        if done == 3:
            raise KeyboardInterrupt

    runs = {}
    for name, tag in (("one", lambda out, **kw: one_process(tiny_pipeline, inputs, out, **kw)),
                      ("ray", lambda out, **kw: tag_files(inputs, out, model_dir=tiny_model_dir, device="cpu",
                                                          workers=2, **kw))):
        out = tmp_path / f"{name}.conllu"
        out.write_text("previous good output\n", encoding="utf-8")
        with pytest.raises(KeyboardInterrupt):
            tag(out, batch_chars=1, progress=interrupt_after_three)
        assert out.read_text(encoding="utf-8") == "previous good output\n"
        assert json.loads((tmp_path / f"{name}.conllu.partial.json").read_text())["documents"] == 3
        seen = []  # on Ray, the rerun also shows that the interrupted run's workers let go of their CPUs
        monkeypatch.setattr(tag_ray, "WINDOW_BATCHES_PER_WORKER", 0.5)  # x 2 workers: one batch per window
        report = tag(out, batch_chars=two_per_batch, progress=lambda done, total, seen=seen: seen.append(done))
        assert report.resumed_documents == 3 and seen == [2, 4, 6] and report.documents == 6
        assert not (tmp_path / f"{name}.conllu.partial").exists()
        runs[name] = out.read_bytes()
    assert runs["ray"] == runs["one"]
    assert runs["one"].count(b"# newdoc id = ") == 6


def test_the_cli_with_workers_prints_what_one_process_prints(ray_cluster, tiny_model_dir, mixed_inputs, tmp_path):
    runs = {}
    for workers in (1, 2):
        out = tmp_path / f"w{workers}.conllu"
        result = CliRunner().invoke(app, ["tag", *map(str, mixed_inputs), "-o", str(out), "--model-dir",
                                          str(tiny_model_dir), "--device", "cpu", "--workers", str(workers)])
        assert result.exit_code == 0, result.output
        lines = [line.replace(str(out), "OUT") for line in result.output.splitlines()
                 if line.startswith(("skipped", "Tagged"))]
        runs[workers] = lines, out.read_bytes()
    assert runs[2] == runs[1]
    assert sum(line.startswith("skipped") for line in runs[2][0]) >= 6


def test_workers_without_ray_say_how_to_install_it(monkeypatch, tiny_model_dir, tmp_path):
    """Ray's absence is simulated in-process, the one fake here: the function tag_ray imports Ray with raises
    the ImportError Python raises when the package is not installed."""
    real_import = tag_ray._import

    def no_ray(name, *args, **kwargs):
        if name == "ray" or name.startswith("ray."):
            raise ModuleNotFoundError(f"No module named {name.split('.')[0]!r}", name=name.split(".")[0])
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(tag_ray, "_import", no_ray)
    source = tmp_path / "news.txt"
    source.write_text(news(1), encoding="utf-8")
    with pytest.raises(tag_ray.RayNotInstalledError, match=r"pip install 'mudawwana\[ray\]'"):
        tag_files([source], tmp_path / "x.conllu", model_dir=tiny_model_dir, workers=2)

    result = CliRunner().invoke(app, ["tag", str(source), "-o", str(tmp_path / "x.conllu"), "--model-dir",
                                      str(tiny_model_dir), "--workers", "2"])
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if "error:" in line]
    assert len(errors) == 1 and "mudawwana[ray]" in errors[0] and "--workers" in errors[0], result.output
    assert "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["news.txt"]  # nothing written, not even a partial
    # one process needs no Ray at all
    assert tag_files([source], tmp_path / "x.conllu", model_dir=tiny_model_dir, device="cpu", workers=1).written
