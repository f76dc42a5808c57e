#!/usr/bin/env bash
# Set up mudawwana on a fresh machine, then run what was asked:
#   bash scripts/bootstrap.sh demo   -> the main job on its embedded default (`mudawwana demo`)
#   bash scripts/bootstrap.sh test   -> the test suite (what CI runs)
# Re-running is cheap: every step checks whether it is already done.
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-demo}"
PY="${PYTHON:-python3}"

step() { printf '\n==> %s\n' "$*" >&2; }

if [ ! -x .venv/bin/python ]; then
  step "creating .venv"
  "$PY" -m venv .venv
  .venv/bin/pip install -q --upgrade pip
fi
# Install torch first: pinning the CPU build keeps pip from pulling a multi-GB CUDA build for stanza.
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  step "installing torch (CPU)"
  .venv/bin/pip install -q "torch==2.13.0" || .venv/bin/pip install -q torch
fi
step "installing mudawwana"
# Editable: a checkout is where people change the code. setuptools announces every editable install of a
# package-dir mapping with an InformationOnly "warning" (its own docstring: there is no other way to show a
# message through pip); nothing is wrong, so it is filtered. The wheel users install is tested by
# tests/test_packaging.py, which also checks that building it warns about nothing.
PYTHONWARNINGS="ignore:Editable installation" .venv/bin/pip install -q --progress-bar off -e ".[test]"

# Label Studio lives in its own virtualenv: its pins (Django, pyarrow...) must not fight stanza/datasets.
export MUDAWWANA_LS_VENV="${MUDAWWANA_LS_VENV:-$PWD/.ls-venv}"
if [ ! -x "$MUDAWWANA_LS_VENV/bin/label-studio" ]; then
  step "installing Label Studio into $MUDAWWANA_LS_VENV"
  "$PY" -m venv "$MUDAWWANA_LS_VENV"
  "$MUDAWWANA_LS_VENV/bin/pip" install -q --upgrade pip
  "$MUDAWWANA_LS_VENV/bin/pip" install -q "label-studio==1.23.*"
fi
# Its PostgreSQL driver (`mudawwana studio --database`): label-studio 1.23 requires psycopg[binary] 3 itself;
# checked anyway, since an older virtualenv may lack it.
if ! "$MUDAWWANA_LS_VENV/bin/python" -c "import psycopg" 2>/dev/null; then
  step "installing Label Studio's PostgreSQL driver"
  "$MUDAWWANA_LS_VENV/bin/pip" install -q "psycopg[binary]>=3.2,<4"
fi

case "$what" in
  demo)
    step "running the demo"
    exec .venv/bin/mudawwana demo
    ;;
  test)
    # Headless Chromium (Debian's) drives the real editor; Playwright never downloads a browser. Noto has
    # the Arabic glyphs the screenshot in docs/ shows. PostgreSQL's server binaries: the PostgreSQL tests
    # start a throwaway cluster of their own (tests/annotate/test_postgres.py), never the package's.
    packages=()
    [ -x /usr/bin/chromium ] || packages+=(chromium fonts-noto-core)
    compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || command -v postgres >/dev/null || packages+=(postgresql)
    if [ ${#packages[@]} -gt 0 ] && command -v apt-get >/dev/null; then
      step "installing ${packages[*]}"
      SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
      $SUDO apt-get update -qq
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
    fi
    step "running the tests"
    exec .venv/bin/pytest -q -ra
    ;;
  *)
    echo "usage: bash scripts/bootstrap.sh [demo|test]" >&2
    exit 2
    ;;
esac
