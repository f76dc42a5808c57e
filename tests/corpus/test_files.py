"""corpus/files.py: what a killed run leaves beside its target is removed by the next run, what a live run
(another terminal, a child it forked) is working on never is. Real processes, real kill -9."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mudawwana.corpus.files import atomic_writer, remove_stale, staged_directory, write_text_atomic

BIN = Path(sys.executable).parent
SAMPLE = Path(__file__).resolve().parents[2] / "corpus" / "data" / "ar_pud-sample.conllu"

# A run that stops half-way: it fills a stage (or a temp file), says so, then waits to be killed or released.
HALF_WAY = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    from mudawwana.corpus.files import atomic_writer, staged_directory
    target, kind, fork = Path(sys.argv[1]), sys.argv[2], sys.argv[3] == "fork"
    release = target.parent / "release"
    if kind == "dir":
        context = staged_directory(target)
    else:
        context = atomic_writer(target)
    with context as work:
        if kind == "dir":
            (work / "half.txt").write_text("half")
        else:
            work.write("half")
            work.flush()
        if fork and os.fork() == 0:  # a child inherits the lock, and outlives its killed parent
            while not release.exists():
                time.sleep(0.05)
            os._exit(0)
        print("ready", flush=True)
        while not release.exists():
            time.sleep(0.05)
    print("done", flush=True)
""")


def half_way(target: Path, kind: str = "dir", fork: bool = False) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HALF_WAY, str(target), kind, "fork" if fork else "-"],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc


def temps(target: Path) -> list[str]:
    return sorted(p.name for p in target.parent.iterdir() if p.name.startswith(f".{target.name}."))


def kill9(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_temp_names_carry_pid_and_host(tmp_path):
    out = tmp_path / "out"
    with staged_directory(out) as stage:
        assert stage.name.startswith(f".out.{os.getpid()}@") and stage.name.endswith(".tmp")
        assert socket.gethostname().split(".")[0].replace("_", "-") in stage.name
    with atomic_writer(tmp_path / "f.txt"):
        [temp] = temps(tmp_path / "f.txt")
        assert temp.startswith(f".f.txt.{os.getpid()}@") and temp.endswith(".tmp")
    assert temps(out) == [] and temps(tmp_path / "f.txt") == []


def test_a_killed_staging_is_removed_by_the_next_run(tmp_path):
    out = tmp_path / "out"
    with staged_directory(out) as stage:
        (stage / "v1.txt").write_text("1")
    proc = half_way(out)
    [left] = temps(out)
    kill9(proc)
    assert temps(out) == [left]  # nothing removes it by itself...
    with staged_directory(out) as stage:  # ...the next run does, before its own work
        assert temps(out) == [stage.name]
        (stage / "v2.txt").write_text("2")
    assert temps(out) == [] and sorted(os.listdir(out)) == ["v2.txt"]


def test_a_killed_atomic_write_is_removed_by_the_next_write(tmp_path):
    path = tmp_path / "corpus.conllu"
    write_text_atomic(path, "old\n")
    kill9(half_way(path, "file"))
    assert len(temps(path)) == 1 and path.read_text() == "old\n"
    write_text_atomic(path, "new\n")
    assert temps(path) == [] and path.read_text() == "new\n"


def test_a_live_runs_stage_is_left_alone_and_finishes(tmp_path):
    """Two terminals exporting to one directory: the second run must not pull the first one's stage away."""
    out = tmp_path / "out"
    proc = half_way(out)
    [theirs] = temps(out)
    assert remove_stale(out) == []
    with staged_directory(out) as stage:
        assert sorted(temps(out)) == sorted([theirs, stage.name])
        (stage / "mine.txt").write_text("mine")
    assert temps(out) == [theirs] and os.listdir(out) == ["mine.txt"]
    (tmp_path / "release").touch()
    assert proc.communicate(timeout=60)[0].strip() == "done" and proc.returncode == 0
    assert temps(out) == [] and os.listdir(out) == ["half.txt"]  # the live run swapped its result in


def test_a_stage_a_forked_child_still_holds_is_left_until_it_exits(tmp_path):
    """The pid in the name is dead, but the lock says a process (the child) still works in the stage."""
    out = tmp_path / "out"
    proc = half_way(out, fork=True)
    kill9(proc)
    assert remove_stale(out) == [] and len(temps(out)) == 1
    (tmp_path / "release").touch()
    deadline = time.monotonic() + 30
    while remove_stale(out) == [] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert temps(out) == []


def test_a_kill_between_the_two_renames_of_a_swap_puts_the_old_result_back(tmp_path):
    out = tmp_path / "out"
    pid = dead_pid()
    host = socket.gethostname()
    old = tmp_path / f".out.{pid}@{host}.abc123.old"
    old.mkdir()
    (old / "v1.txt").write_text("1")
    stage = tmp_path / f".out.{pid}@{host}.def456.tmp"
    stage.mkdir()
    (stage / "v2.txt").write_text("2")
    removed = remove_stale(out)
    assert sorted(p.name for p in removed) == sorted([old.name, stage.name])
    assert temps(out) == [] and os.listdir(out) == ["v1.txt"]


def test_other_hosts_and_other_targets_are_not_touched(tmp_path):
    out = tmp_path / "out"
    pid = dead_pid()
    keep = [tmp_path / f".out.{pid}@some-other-host.abc123.tmp",  # its pids mean nothing here
            tmp_path / f".out.x.{pid}@{socket.gethostname()}.abc123.tmp",  # the target `out.x`
            tmp_path / ".out.legacy1.tmp"]  # no owner in the name: an older version's, maybe still running
    for path in keep:
        path.mkdir()
    assert remove_stale(out) == []
    assert all(path.exists() for path in keep)


@pytest.mark.slow
def test_an_export_killed_with_kill_9_is_cleaned_up_by_the_next_export(tmp_path):
    out = tmp_path / "dataset"
    cmd = [str(BIN / "mudawwana"), "export", str(SAMPLE), "-o", str(out), "--allow-invalid"]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 120
    while not temps(out) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    kill9(proc)
    [left] = temps(out)
    assert left.endswith(".tmp") and not out.exists()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr
    assert temps(out) == [] and (out / "dataset_dict.json").is_file()
