#!/usr/bin/env bash
# One entry point for setting up and running SyncDub Companion on Debian.
#   bash dev.sh run    install what the service needs, then serve on the embedded defaults
#   bash dev.sh test   install what the tests need too, then run the test suite
#   bash dev.sh setup  install only
#   bash dev.sh lock   re-resolve requirements.lock from pyproject.toml (see README "Dependencies")
set -euo pipefail
cd "$(dirname "$0")"

VENV=${VENV:-.venv}
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
CACHE=${SYNCDUB_CACHE:-$PWD/.cache}

sudo_if_needed() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
  local missing=()
  for pair in "$@"; do
    local cmd=${pair%%:*} pkg=${pair##*:}
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing Debian packages: ${missing[*]}"
    sudo_if_needed apt-get update -qq
    DEBIAN_FRONTEND=noninteractive sudo_if_needed apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

python_env() {
  if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
  fi
  # Everything comes from the lock (exact versions, hashed): the next machine installs what
  # was tested. Skipped when neither the lock nor pyproject.toml changed since the last install.
  local stamp="$VENV/.syncdub-installed" want
  want=$(cat requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && [ -x "$VENV/bin/syncdub" ]; then
    return
  fi
  echo "installing Python packages from requirements.lock into $VENV"
  # shellcheck disable=SC2046
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --require-hashes \
    $(torch_source) -r requirements.lock
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
  echo "$want" > "$stamp"
}

torch_source() {
  # The lock pins torch's CPU build (2.13.0+cpu), which PyPI does not serve: take it from a
  # local wheel folder where pip is configured with one, else from PyTorch's CPU index.
  local links
  links="${PIP_FIND_LINKS:-} $("$PYTHON" -m pip config get global.find-links 2>/dev/null || true)"
  for dir in $links; do
    compgen -G "$dir/torch-2.13.0+cpu-*.whl" >/dev/null && return
  done
  echo "--extra-index-url https://download.pytorch.org/whl/cpu"
}

models() {
  # Into data_dir/models of the config the service will read (./config.toml or the defaults).
  "$VENV/bin/syncdub" models install
}

fetch_drascula() {
  apt-get download -q -o APT::Sandbox::User=root drascula drascula-spanish drascula-music >/dev/null
}

test_extras() {
  apt_install chromium:chromium redis-server:redis-server
  # Real speech for the aligner tests: the drascula game's Spanish lines and their English dub.
  local dir="$CACHE/drascula"
  if [ ! -d "$dir/x/usr/share/scummvm/drascula/es" ]; then
    mkdir -p "$dir"
    # apt's sandbox user cannot write into a root-owned checkout; a machine never updated
    # has no package lists yet.
    (cd "$dir" && { fetch_drascula || { sudo_if_needed apt-get update -qq && fetch_drascula; }; } \
      && for f in *.deb; do dpkg -x "$f" x; done)
  fi
  if [ ! -d tests/browser/node_modules/playwright-core ]; then
    (cd tests/browser && npm install --silent --no-audit --no-fund >/dev/null)
  fi
}

lock() {
  # pip-tools in a venv of its own, so that the lock never depends on what .venv holds.
  local tools=.cache/lock-tools
  [ -x "$tools/bin/pip-compile" ] || { "$PYTHON" -m venv "$tools" && "$tools/bin/pip" install -q "pip-tools==7.7.0"; }
  # shellcheck disable=SC2046
  "$tools/bin/pip-compile" -q ${LOCK_UPGRADE:+--upgrade} --extra dev --all-build-deps --generate-hashes --strip-extras \
    --allow-unsafe --no-emit-index-url --no-emit-find-links $(torch_source) -o requirements.lock pyproject.toml
}

setup() {
  apt_install ffmpeg:ffmpeg ffprobe:ffmpeg mkvmerge:mkvtoolnix
  python_env
  models
}

case "${1:-}" in
  setup) setup ;;
  lock) lock ;;
  run)
    setup
    [ -f config.toml ] || cp config.example.toml config.toml
    exec "$VENV/bin/syncdub" serve --config config.toml
    ;;
  test)
    setup
    test_extras
    export SYNCDUB_CACHE="$CACHE"
    shift || true
    # One worker per core, at most 4 (each worker loads its own speech models): on 2 cores the
    # suite takes about 7 minutes instead of 13. `bash dev.sh test -n 0` runs it in one process.
    # The slowest tests are listed at the end, so that a run that grows shows where.
    exec "$VENV/bin/python" -m pytest -q -p no:cacheprovider -n auto --maxprocesses=4 --durations=15 "$@"
    ;;
  *) echo "usage: bash dev.sh run|test|setup|lock" >&2; exit 2 ;;
esac
