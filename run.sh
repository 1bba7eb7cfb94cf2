#!/usr/bin/env bash
# resistscore's two commands. On a fresh machine (Python >= 3.10 with pip and venv), each sets
# everything up itself (a virtual environment in .venv with resistscore and its dependencies, its
# numba kernels compiled into numba's cache by `resistscore compile`) and then runs:
#   bash run.sh demo [OUTDIR]   the main job: score the toy cohort, write scores, statistics,
#                               figures (PNG + PDF) and an HTML report into OUTDIR (default resistscore-demo/)
#   bash run.sh test            the full check: linter, formatter check, the whole test suite
#                               (doctests, notebooks, the documentation build and the service's browser
#                               tests included), and a wheel smoke test in a clean virtual environment
#                               outside the repository
#   bash run.sh docs            the documentation site (Sphinx) into docs/_build/html
#   bash run.sh serve [OPTIONS]  the upload service on http://127.0.0.1:8000 (`resistscore serve --help`)
set -euo pipefail
cd "$(dirname "$0")"

PYTHON="${PYTHON:-python3}"
VENV="${RESISTSCORE_VENV:-.venv}"

setup() {
  if [ ! -x "$VENV/bin/python" ]; then
    echo "==> creating virtual environment $VENV"
    "$PYTHON" -m venv "$VENV"
  fi
  # shellcheck disable=SC1091
  source "$VENV/bin/activate"
  local stamp="$VENV/.resistscore-installed"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "==> installing resistscore and its dependencies into $VENV"
    python -m pip install --quiet --upgrade pip
    python -m pip install --quiet -e ".[dev]"
    # numba's compiled kernels into its on-disk cache, as pip byte-compiles the .py files: the first run
    # is then as fast as the next ones (without it, the first run compiles them: ~8 s of CPU)
    echo "==> compiling resistscore's numba kernels into numba's cache (once, ~25 s)"
    resistscore compile --quiet
    touch "$stamp"
  fi
}

ensure_chromium() {
  # the browser tests drive Debian's chromium; browsers are never downloaded at run time
  local chromium="${RESISTSCORE_CHROMIUM:-/usr/bin/chromium}"
  if [ -x "$chromium" ]; then
    return
  fi
  echo "==> $chromium is missing: installing Debian's chromium with apt-get (for the browser tests)"
  local sudo=""
  if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then
    sudo="sudo -n"
  fi
  if command -v apt-get >/dev/null 2>&1; then
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null || true
  fi
  if [ ! -x "$chromium" ]; then
    echo "error: $chromium is missing and could not be installed; install Debian's chromium package" \
      "(apt-get install chromium) or set RESISTSCORE_CHROMIUM to a chromium binary - the browser tests need it." >&2
    exit 1
  fi
}

wheel_smoke_test() {
  echo "==> wheel smoke test (clean virtual environment outside the repository)"
  local tmp
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' RETURN
  python -m pip wheel --quiet --no-deps --wheel-dir "$tmp/dist" .
  python -m venv "$tmp/venv"
  "$tmp/venv/bin/python" -m pip install --quiet "$tmp"/dist/resistscore-*.whl
  (cd "$tmp" && "$tmp/venv/bin/python" - <<'PY'
import resistscore as rs
from resistscore._resources import signatures_root
root = signatures_root()
assert "site-packages" in str(root), f"signatures not read from the installed wheel: {root}"
sigs = rs.sig.load()
assert len(sigs) >= 13, len(sigs)
assert rs.pp.gene_table().shape[0] > 40000
print(f"wheel OK: resistscore {rs.__version__}, {len(sigs)} signatures read from {root}")
PY
  )
  (cd "$tmp" && "$tmp/venv/bin/resistscore" signatures list --level mechanism >/dev/null)
}

build_docs() {
  # The tutorials are executed during the build and cached in docs/_build/.jupyter_cache (a notebook runs
  # again when its code changes); the cache is dropped when the package or the signatures changed since.
  local cache="docs/_build/.jupyter_cache"
  if [ -d "$cache" ] && [ -n "$(find resistscore signatures pyproject.toml -newer "$cache" -type f ! -name '*.pyc' -print -quit)" ]; then
    rm -rf "$cache"
  fi
  echo "==> sphinx-build -W (every warning is an error) into docs/_build/html"
  python -m sphinx -W --keep-going -b html docs docs/_build/html
  touch "$cache" 2>/dev/null || true
  echo "open docs/_build/html/index.html"
}

case "${1:-}" in
  demo)
    setup
    out="${2:-resistscore-demo}"
    resistscore demo --out "$out"
    ;;
  test)
    setup
    ensure_chromium
    echo "==> ruff check"
    ruff check .
    echo "==> ruff format --check"
    ruff format --check .
    echo "==> pytest"
    python -m pytest
    wheel_smoke_test
    ;;
  docs)
    setup
    build_docs
    ;;
  serve)
    setup
    shift
    exec resistscore serve "$@"
    ;;
  *)
    echo "usage: bash run.sh demo [OUTDIR] | bash run.sh test | bash run.sh docs | bash run.sh serve [OPTIONS]" >&2
    exit 2
    ;;
esac
