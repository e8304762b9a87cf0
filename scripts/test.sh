#!/usr/bin/env bash
# The whole test suite on real brokers: lint, unit, integration, every notebook under nbval.
# Starts the course's brokers when they are not running and stops them again at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
BL=.venv/bin/brokerlab

started=0
if ! $BL status >/dev/null 2>&1; then
  $BL up
  started=1
fi
# The 3-node cluster is started and stopped by the tests and labs that need it; if one of them
# fails half-way, this makes sure no node outlives the run (unless it was running before).
cluster_was_up=0
if $BL cluster status >/dev/null 2>&1; then cluster_was_up=1; fi
cleanup() {
  if [ "$cluster_was_up" = 0 ]; then $BL cluster down >/dev/null || true; fi
  if [ "$started" = 1 ]; then $BL down; fi
}
trap cleanup EXIT

# Benchmarks run their CI-sized variant (same code paths, shorter runs) unless told otherwise.
export BROKERLAB_BENCH_MODE="${BROKERLAB_BENCH_MODE:-quick}"

.venv/bin/ruff check src tests notebooks labs
# One pytest run: unit and integration tests, then nbval executes every notebook top to bottom.
# test-artifacts/junit.xml keeps every test's and every notebook cell's time for the report.
.venv/bin/pytest tests notebooks labs \
  --nbval-lax --nbval-current-env --nbval-cell-timeout=300 -p no:cacheprovider \
  --junitxml=test-artifacts/junit.xml "$@"
