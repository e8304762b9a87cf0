#!/usr/bin/env bash
# The whole test suite on real brokers: lint, unit, integration, every notebook under nbval.
# Starts the course's brokers when they are not running and stops them again at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
BL=.venv/bin/brokerlab
. scripts/exit_checked.sh

.venv/bin/ruff check src tests notebooks labs  # fails fast, before any broker starts

started=0
if ! $BL status >/dev/null 2>&1; then
  $BL up   # replaces any broker of a previous run that lost its record
  started=1
fi
# The 3-node cluster: unless it is up now, whatever is left of it (a failed run's nodes, orphans)
# is stopped first and at the end.
cluster_was_up=0
if $BL cluster status >/dev/null 2>&1; then cluster_was_up=1; else $BL cluster down >/dev/null; fi
cleanup() {
  local rc=$? left=0
  if [ "$cluster_was_up" = 0 ]; then $BL cluster down >/dev/null || left=1; fi
  if [ "$started" = 1 ]; then $BL down || left=1; fi
  # The suite's last assertion: no broker process of this checkout outlives it (down fails when
  # one survives; this also sees a process tagged with the data dir that no deployment knows).
  local all=0
  if [ "$started" = 1 ] && [ "$cluster_was_up" = 0 ]; then all=1; fi
  exit_checked "$rc" "$left" "$all" ""
}
trap cleanup EXIT
# Formed once for the whole run (TEST_CLUSTER=0 skips it): the cluster tests and the failure labs
# find it running, use it, repair what they broke, and leave it up; it is stopped at the end.
if [ "$cluster_was_up" = 0 ] && [ "${TEST_CLUSTER:-1}" = 1 ]; then $BL cluster up; fi

# A demonstration that did not show fails the suite (a learner gets an explanation instead).
export BROKERLAB_STRICT=1
# Benchmarks run their CI-sized variant (same code paths, shorter runs) unless told otherwise.
export BROKERLAB_BENCH_MODE="${BROKERLAB_BENCH_MODE:-quick}"

# One pytest run: unit and integration tests, then nbval executes every notebook top to bottom.
# test-artifacts/junit.xml keeps every test's and every notebook cell's time for the report.
# TEST_TARGETS narrows what runs; TEST_ROUNDS repeats it on the same brokers (make soak);
# TEST_MARKERS selects by marker: the slow and repeated proofs run in `make test-slow`.
rounds="${TEST_ROUNDS:-1}"
markers="${TEST_MARKERS:-not slow and not binder}"
for round in $(seq 1 "$rounds"); do
  [ "$rounds" = 1 ] || echo "[test] round $round of $rounds"
  # shellcheck disable=SC2086  # TEST_TARGETS is a list of paths
  .venv/bin/pytest ${TEST_TARGETS:-tests notebooks labs} \
    -m "$markers" --nbval-lax --nbval-current-env --nbval-cell-timeout=300 -p no:cacheprovider \
    --durations=10 --junitxml=test-artifacts/junit.xml "$@"
done
