#!/usr/bin/env bash
# Install whatever is missing, fast when nothing is: system tools (apt), the venv, browser assets.
#   scripts/setup.sh          what `make run` needs
#   scripts/setup.sh --test   plus what the test suite needs (services, browser)
set -euo pipefail
cd "$(dirname "$0")/.."

WANT_TEST=0
[[ "${1:-}" == "--test" ]] && WANT_TEST=1
PYTHON="${PYTHON:-python3}"
VENV=.venv

say() { printf '\033[1m==>\033[0m %s\n' "$*"; }

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

# --- system packages -------------------------------------------------------------------------
APT_PACKAGES=(ffmpeg espeak-ng fonts-dejavu-core)
APT_TEST_PACKAGES=()
if [[ $WANT_TEST -eq 1 ]]; then
  APT_TEST_PACKAGES=(chromium)
fi
missing=()
for pkg in "${APT_PACKAGES[@]}" "${APT_TEST_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  say "Installing system packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- Python venv -----------------------------------------------------------------------------
# requirements*.txt say what Clipcast needs; requirements*.lock pin every package to the exact
# version and SHA-256 the tests passed with (pip-compile --generate-hashes, Python 3.11), and
# pip refuses anything else (--require-hashes). Another Python installs from the .txt files.
if [[ ! -x "$VENV/bin/python" ]]; then
  say "Creating the virtual environment in $VENV"
  "$PYTHON" -m venv "$VENV"
fi
PY_VERSION=$("$VENV/bin/python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
if [[ "$PY_VERSION" == "3.11" ]]; then
  RUN_SET=(requirements.lock); TEST_SET=(requirements-dev.lock); PIP_CHECK=(--require-hashes)
else
  RUN_SET=(requirements.txt); TEST_SET=(requirements.txt requirements-dev.txt); PIP_CHECK=()
fi
REQ_FILES=("${RUN_SET[@]}")
[[ $WANT_TEST -eq 1 ]] && REQ_FILES=("${TEST_SET[@]}")
stamp="$VENV/.installed-$(cat "${REQ_FILES[@]}" | sha256sum | cut -c1-16)"
# The test set includes the run set: after `make test`, `make run` has nothing to install.
test_stamp="$VENV/.installed-$(cat "${TEST_SET[@]}" | sha256sum | cut -c1-16)"
if [[ ! -f "$stamp" && ! -f "$test_stamp" ]] || [[ $WANT_TEST -eq 1 && ! -f "$stamp" ]]; then
  say "Installing Python packages (${REQ_FILES[*]})"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  for req in "${REQ_FILES[@]}"; do "$VENV/bin/pip" install -q "${PIP_CHECK[@]}" -r "$req"; done
  rm -f "$VENV"/.installed-* && touch "$stamp"
fi

# --- browser assets from the npm registry (no CDN at run time) -------------------------------
VENDOR=static/vendor
if [[ ! -f "$VENDOR/socket.io.esm.min.js" || package-lock.json -nt "$VENDOR/socket.io.esm.min.js" ]]; then
  command -v npm >/dev/null || { say "Installing nodejs and npm"; as_root apt-get install -y -qq npm >/dev/null; }
  say "Fetching the Socket.IO browser client"
  npm ci --silent --no-audit --no-fund >/dev/null
  mkdir -p "$VENDOR"
  cp node_modules/socket.io-client/dist/socket.io.esm.min.js "$VENDOR/"
  cp node_modules/socket.io-client/dist/socket.io.esm.min.js.map "$VENDOR/" 2>/dev/null || true
fi

# --- services the distributed tests use --------------------------------------------------------
if [[ $WANT_TEST -eq 1 ]]; then
  scripts/services.sh start
fi
say "Set-up complete"
