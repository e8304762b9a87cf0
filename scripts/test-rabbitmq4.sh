#!/usr/bin/env bash
# make test-rabbitmq4: lessons 00-05 and the single-node labs under nbval against RabbitMQ 4 (4.0.5
# from a Debian 13 root, run under chroot) with the course's native Kafka, outside `make test`.
# `brokerlab rabbitmq4 up` starts both as a native deployment of their own (.brokerlab/run/rabbitmq4,
# ports = the single deployment's + offset - 50) beside the native RabbitMQ 3.10; the notebooks find
# them through the environment contract. Everything it started is stopped at the end, and the
# last check is that no process of that deployment is left.
set -euo pipefail
cd "$(dirname "$0")/.."
BL=.venv/bin/brokerlab
. scripts/exit_checked.sh
TARGETS="${TEST_TARGETS:-notebooks/00_*.ipynb notebooks/01_*.ipynb notebooks/02_*.ipynb notebooks/03_*.ipynb
  notebooks/04_*.ipynb notebooks/05_*.ipynb notebooks/05b_*.ipynb labs/01_*.ipynb labs/02_*.ipynb labs/04_*.ipynb labs/05_*.ipynb labs/07_*.ipynb}"

t=$(date +%s)
scripts/rabbitmq4-root.sh
echo "[rabbitmq4] root ready in $(( $(date +%s) - t )) s"

$BL rabbitmq4 down >/dev/null  # whatever a failed run left behind
cleanup() {
  local rc=$? left=0
  trap - EXIT INT TERM
  if [ -n "${tests:-}" ]; then kill -TERM -- "-$tests" 2>/dev/null || true; wait "$tests" || true; fi
  $BL rabbitmq4 down || left=1
  exit_checked "$rc" "$left" 1 " rabbitmq4/"  # no process of the deployment it started is left
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

t=$(date +%s)
$BL rabbitmq4 up
echo "[rabbitmq4] brokers up in $(( $(date +%s) - t )) s"
version=$($BL rabbitmq4 status --json | .venv/bin/python -c 'import json, sys; print(json.load(sys.stdin)["rabbitmq"]["version"])')
case "$version" in 4.*) echo "[rabbitmq4] RabbitMQ $version";;
  *) echo "[rabbitmq4] FAILED: the management API reports RabbitMQ $version, not 4.x" >&2; exit 1;; esac
# The environment contract (brokerlab.settings): the notebooks use these brokers, not the defaults.
eval "$(.venv/bin/python -c 'from brokerlab.brokers import native; print(native.rabbitmq4().exports())')"

export BROKERLAB_STRICT=1
export BROKERLAB_BENCH_MODE="${BROKERLAB_BENCH_MODE:-quick}"
mkdir -p test-artifacts
t=$(date +%s)
rc=0
# In the background, in a process group of its own, and waited for: `wait` returns at once on INT
# or TERM (a foreground command would first run to its end), and cleanup stops the whole group.
# shellcheck disable=SC2086  # TARGETS is a list of paths
setsid .venv/bin/pytest $TARGETS --nbval-lax --nbval-current-env --nbval-cell-timeout=300 \
  -p no:cacheprovider --durations=10 --junitxml=test-artifacts/rabbitmq4-junit.xml "$@" &
tests=$!
wait "$tests" || rc=$?
tests=""
echo "[rabbitmq4] notebooks ran in $(( $(date +%s) - t )) s against RabbitMQ $version"
.venv/bin/python scripts/junit_by_notebook.py test-artifacts/rabbitmq4-junit.xml
exit "$rc"
