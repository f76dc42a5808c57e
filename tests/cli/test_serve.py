"""`mudawwana serve` and `mudawwana connect-backend` as users run them: the real console script.

The protocol itself, against a real Label Studio: tests/annotate/test_ml_backend.py."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from mudawwana.annotate.ml_backend_connect import PASSWORD_ENV, backend_health
from mudawwana.annotate.server import free_port
from mudawwana.cli import serve as serve_command


def error_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("error:")]


def test_both_commands_are_registered_with_help(run_cli):
    listing = run_cli("--help").stdout
    assert "serve" in listing and "connect-backend" in listing
    for command in ("serve", "connect-backend"):
        result = run_cli(command, "--help")
        assert result.returncode == 0 and "Example: mudawwana" in result.stdout


def test_the_password_variable_is_the_one_connect_backend_sets():
    assert serve_command.PASSWORD_ENV == PASSWORD_ENV


def test_user_errors_are_one_line(run_cli, tmp_path):
    missing = run_cli("serve", "--model-dir", str(tmp_path / "nope"))
    assert missing.returncode == 1 and error_lines(missing.stderr) == [f"error: {tmp_path / 'nope'}: no such file "
                                                                       "or directory"]
    (tmp_path / "m").mkdir()
    half = run_cli("serve", "--model-dir", str(tmp_path / "m"), "--basic-auth-user", "u")
    assert half.returncode == 1 and "needs both a user" in half.stderr and len(error_lines(half.stderr)) == 1
    empty = run_cli("serve", "--model-dir", str(tmp_path / "m"))  # a directory without a model
    assert empty.returncode == 1 and len(error_lines(empty.stderr)) == 1 and "Traceback" not in empty.stderr
    neither = run_cli("connect-backend", "--project", "news")
    assert neither.returncode == 1 and "either --model-dir" in neither.stderr


@pytest.mark.slow
def test_serve_listens_on_loopback_with_basic_auth_and_logs_no_secret(mudawwana_script, tiny_model_dir, tmp_path):
    port = free_port()
    env = {**os.environ, PASSWORD_ENV: "pw-never-logged", "LABEL_STUDIO_API_KEY": "key-never-logged",
           "LABEL_STUDIO_URL": "http://127.0.0.1:9"}
    process = subprocess.Popen([str(mudawwana_script), "serve", "--model-dir", str(tiny_model_dir), "--port",
                                str(port), "--basic-auth-user", "ls"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        while backend_health(f"http://127.0.0.1:{port}", ("ls", "pw-never-logged")) is None:
            assert process.poll() is None and time.monotonic() < deadline, "serve did not start"
            time.sleep(0.3)
        assert backend_health(f"http://127.0.0.1:{port}") is None  # no credentials: refused
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0]
    assert f"Uvicorn running on http://127.0.0.1:{port}" in output
    assert "pw-never-logged" not in output and "key-never-logged" not in output
