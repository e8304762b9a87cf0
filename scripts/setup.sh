#!/usr/bin/env bash
# Idempotent set-up for the course: system packages (when missing), .venv, the brokerlab package,
# and the pinned Kafka jars. A second run does no network work.
#   scripts/setup.sh            what the course needs
#   scripts/setup.sh --test     plus the test tools (kcat, Chromium for the browser test, and the
#                               Compose Specification's JSON schema)
#   scripts/setup.sh --python-only   only .venv and the package: for brokers from Docker Compose
#                               (make lab-docker), which needs neither Java nor rabbitmq-server
set -euo pipefail
cd "$(dirname "$0")/.."

want_test_tools=0 python_only=0
[ "${1:-}" = "--test" ] && want_test_tools=1
[ "${1:-}" = "--python-only" ] && python_only=1

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
die() { printf '\033[31m[setup] %s\033[0m\n' "$*" >&2; exit 1; }

# --- Python 3.11+ ---------------------------------------------------------------------------
PYTHON="${PYTHON:-python3}"
command -v "$PYTHON" >/dev/null || die "Python 3.11+ is missing. Install it (Debian/Ubuntu: sudo apt-get install -y python3 python3-venv; macOS: brew install python@3.12), or set PYTHON=/path/to/python3.11."
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || die "$("$PYTHON" -V) is too old: the course needs Python 3.11+. Set PYTHON=/path/to/python3.11 or newer."

# --- System packages: Java 17+, rabbitmq-server, Maven (jars), kcat (tests) -----------------
java_ok() {
  local java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
  command -v "$java" >/dev/null || return 1
  local major
  major=$("$java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)
  [ -n "$major" ] && [ "$major" -ge 17 ]
}
rabbit_ok() {
  [ -n "${BROKERLAB_RABBITMQ_SERVER:-}" ] && [ -f "$BROKERLAB_RABBITMQ_SERVER" ] && return 0
  for p in /usr/lib/rabbitmq/bin/rabbitmq-server /opt/homebrew/sbin/rabbitmq-server /usr/local/sbin/rabbitmq-server; do
    [ -f "$p" ] && return 0
  done
  return 1
}
jars_cached() { ls "${BROKERLAB_DATA_DIR:-.brokerlab}"/cache/kafka-*/.complete >/dev/null 2>&1; }

missing=()
[ "$python_only" = 1 ] || {
java_ok || missing+=("openjdk-17-jre-headless")
rabbit_ok || missing+=("rabbitmq-server")
command -v mvn >/dev/null || jars_cached || missing+=("maven")
if [ "$want_test_tools" = 1 ]; then
  command -v kcat >/dev/null || missing+=("kcat")
  command -v chromium >/dev/null || command -v chromium-browser >/dev/null || missing+=("chromium")
fi

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing with apt: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
    if [[ " ${missing[*]} " == *" rabbitmq-server "* ]] && command -v systemctl >/dev/null \
       && systemctl is-system-running >/dev/null 2>&1; then
      # The package starts a system-wide broker on 5672; the course runs its own.
      say "stopping the system rabbitmq-server service (the course starts its own on 127.0.0.1)"
      systemctl disable --now rabbitmq-server >/dev/null 2>&1 || true
    fi
  else
    echo "[setup] Missing: ${missing[*]}" >&2
    echo "  Debian/Ubuntu: sudo apt-get install -y ${missing[*]}" >&2
    echo "  macOS:         brew install openjdk@17 rabbitmq maven kcat; brew install --cask chromium" >&2
    echo "  Or take the brokers from Docker instead: make lab-docker (see README)." >&2
    exit 1
  fi
fi
}

# --- .venv and the package (re-installed only when pyproject.toml changes) ------------------
[ -x .venv/bin/python ] || { say "creating .venv"; "$PYTHON" -m venv .venv; }
stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  say "installing brokerlab and its dependencies into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[dev]'
  rm -f .venv/.installed-*
  touch "$stamp"
fi

# Strip notebook outputs on `git add` in this checkout (a local git filter; tests enforce it too).
if [ -d .git ] && ! git config --get filter.nbstripout.clean >/dev/null 2>&1; then
  .venv/bin/nbstripout --install --attributes .git/info/attributes || true
fi

[ "$python_only" = 0 ] || { say "ready (Python only: .venv and brokerlab)"; exit 0; }
# --- Kafka jars from Maven Central (cached) -------------------------------------------------
.venv/bin/brokerlab fetch
.venv/bin/brokerlab bench fetch   # RabbitMQ PerfTest, the native tool the benchmarks compare with
# --- The Compose Specification's JSON schema, to validate docker-compose.yml (no Docker needed) --
# Taken from compose-go (the loader Docker Compose itself uses) on the Go module proxy: one small
# zip, pinned by version and checked by hash. The tests validate the file with `jsonschema`.
COMPOSE_GO=v2.16.2
COMPOSE_SCHEMA_SHA256=f266dcbb043229405d7cedd5aec918f9102c2b3d5e3850808fdd8edd564a43ff
schema=.brokerlab/tools/compose-spec.json
if [ "$want_test_tools" = 1 ] && ! echo "$COMPOSE_SCHEMA_SHA256  $schema" | sha256sum -c --status 2>/dev/null; then
  say "fetching the Compose Specification schema (compose-go $COMPOSE_GO, Go module proxy)"
  mkdir -p "$(dirname "$schema")"
  .venv/bin/python - "$COMPOSE_GO" "$COMPOSE_SCHEMA_SHA256" "$schema" <<'PY'
import hashlib, io, os, sys, urllib.request, zipfile
version, sha256, target = sys.argv[1:]
proxy = os.environ.get("GOPROXY", "https://proxy.golang.org").split(",")[0].split("|")[0]
if proxy in ("direct", "off"):
    proxy = "https://proxy.golang.org"
url = f"{proxy.rstrip('/')}/github.com/compose-spec/compose-go/v2/@v/{version}.zip"
with urllib.request.urlopen(url, timeout=60) as reply:
    archive = zipfile.ZipFile(io.BytesIO(reply.read()))
data = archive.read(f"github.com/compose-spec/compose-go/v2@{version}/schema/compose-spec.json")
if hashlib.sha256(data).hexdigest() != sha256:
    sys.exit(f"compose-spec.json from {url} does not match the pinned SHA-256; not installed")
with open(target + ".tmp", "wb") as out:
    out.write(data)
os.replace(target + ".tmp", target)
PY
fi
say "ready. Start the brokers with: .venv/bin/brokerlab up   (or: make lab)"
