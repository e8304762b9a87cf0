#!/usr/bin/env bash
# The whole test suite on real brokers: lint, unit, integration, every notebook under nbval.
#
# `make test` runs it in lanes, at the same time, each a pytest of its own with brokers of its own
# (`--lane` in tests/conftest.py says which test goes where):
#   cluster  what uses the 3+3 cluster (labs 03 and 06, their checkers' tests, the cluster's tests)
#   labs     the other labs and their checkers' tests, on the course's own single pair
#   lessons  the lessons and every other test, on a second single pair (own data dir, ports +
#            LANE_OFFSET)
#   binder   the Binder launch as a new non-root user (its own brokers; needs root)
#   bench    the benchmark lessons, on a third single pair (ports + BENCH_OFFSET), so no other
#            notebook uses the brokers they measure
# Most of a lane's time is spent waiting on brokers (elections, timeouts, retention), so lanes
# overlap well even on two cores. Each lane's output is in test-artifacts/lane-<name>.log and
# printed at the end; its junit XML (every test's and cell's time) is test-artifacts/junit-<name>.xml.
#
# TEST_TARGETS / TEST_MARKERS / TEST_ROUNDS select one serial run instead (make test-slow, make soak).
set -euo pipefail
cd "$(dirname "$0")/.."
BL=.venv/bin/brokerlab
. scripts/exit_checked.sh

.venv/bin/ruff check src tests notebooks labs conftest.py  # fails fast, before any broker starts

# A demonstration that did not show fails the suite (a learner gets an explanation instead).
export BROKERLAB_STRICT=1
# Benchmarks run their CI-sized variant (same code paths, shorter runs) unless told otherwise.
export BROKERLAB_BENCH_MODE="${BROKERLAB_BENCH_MODE:-quick}"
mkdir -p test-artifacts
PYTEST=(.venv/bin/pytest --nbval-lax --nbval-current-env --nbval-cell-timeout=300 -p no:cacheprovider
        --durations=10)

BASE="${BROKERLAB_DATA_DIR:-$PWD/.brokerlab}"
LANE_DATA="$BASE/lanes/lessons" BENCH_DATA="$BASE/lanes/bench"
# Clear of the tests' own deployments (offsets 1000 and 1300, and 1200 + the lane's offset).
LANE_OFFSET=1600 BENCH_OFFSET=1700
lane_bl() { BROKERLAB_DATA_DIR="$LANE_DATA" BROKERLAB_PORT_OFFSET=$LANE_OFFSET $BL "$@"; }
bench_bl() { BROKERLAB_DATA_DIR="$BENCH_DATA" BROKERLAB_PORT_OFFSET=$BENCH_OFFSET $BL "$@"; }

serial=0
[ -n "${TEST_TARGETS:-}${TEST_MARKERS:-}${TEST_ROUNDS:-}" ] && serial=1
want_cluster="${TEST_CLUSTER:-1}"

started=0
if ! $BL status >/dev/null 2>&1; then started=1; fi
# The 3-node cluster: unless it is up now, whatever is left of it (a failed run's nodes, orphans)
# is stopped first and at the end.
cluster_was_up=0
if $BL cluster status >/dev/null 2>&1; then cluster_was_up=1; else $BL cluster down >/dev/null; fi
lanes_pgids=()
cleanup() {
  local rc=$? left=0 pgid alive
  trap - EXIT INT TERM
  # An interrupted run: SIGTERM to each lane still running (pytest then runs its fixtures' teardown:
  # the Binder user's brokers, tmp deployments; `brokerlab up` stops what it started), then SIGKILL
  # to what is left after 60 s. Not SIGINT: a job started in the background ignores it.
  for pgid in ${lanes_pgids[@]+"${lanes_pgids[@]}"}; do kill -TERM -- "-$pgid" 2>/dev/null || true; done
  for _ in $(seq 60); do
    alive=0
    for pgid in ${lanes_pgids[@]+"${lanes_pgids[@]}"}; do kill -0 -- "-$pgid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 1
  done
  for pgid in ${lanes_pgids[@]+"${lanes_pgids[@]}"}; do kill -KILL -- "-$pgid" 2>/dev/null || true; done
  if [ "$cluster_was_up" = 0 ]; then $BL cluster down >/dev/null || left=1; fi
  if [ "$started" = 1 ]; then $BL down || left=1; fi
  if [ "$serial" = 0 ]; then
    local lane_left
    for lane in lane_bl bench_bl; do
      $lane down --purge >/dev/null || left=1
      lane_left=$($lane ps)
      [ -z "$lane_left" ] || { echo "$lane_left" >&2; left=1; }
    done
  fi
  # The suite's last assertion: no broker process of this checkout outlives it (down fails when
  # one survives; this also sees a process tagged with the data dir that no deployment knows).
  local all=0
  if [ "$started" = 1 ] && [ "$cluster_was_up" = 0 ]; then all=1; fi
  exit_checked "$rc" "$left" "$all" ""
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ "$serial" = 1 ]; then
  [ "$started" = 0 ] || $BL up   # replaces any broker of a previous run that lost its record
  # Formed once for the whole run (TEST_CLUSTER=0 skips it).
  if [ "$cluster_was_up" = 0 ] && [ "$want_cluster" = 1 ]; then $BL cluster up; fi
  rounds="${TEST_ROUNDS:-1}"
  markers="${TEST_MARKERS:-not slow and not binder}"
  for round in $(seq 1 "$rounds"); do
    [ "$rounds" = 1 ] || echo "[test] round $round of $rounds"
    # shellcheck disable=SC2086  # TEST_TARGETS is a list of paths
    "${PYTEST[@]}" ${TEST_TARGETS:-tests notebooks labs} -m "$markers" \
      --junitxml=test-artifacts/junit.xml "$@"
  done
  exit 0
fi

# --- lanes ------------------------------------------------------------------------------------
for dir in "$LANE_DATA" "$BENCH_DATA"; do
  mkdir -p "$dir"
  ln -sfn "$BASE/cache" "$dir/cache"  # the jars resolved by setup: no second download
done
t0=$(date +%s)
# Each lane first starts the brokers it uses (`up` also replaces any broker of a previous run
# that lost its record), so the cluster and both pairs start at the same time.
start_cluster() { if [ "$cluster_was_up" = 0 ] && [ "$want_cluster" = 1 ]; then $BL cluster up; fi; }
start_pair() { if [ "$started" = 1 ]; then $BL up; fi; }
start_lane_pair() { lane_bl up; }
start_bench_pair() { bench_bl up; }
nothing_to_start() { :; }

set -m  # every background job below runs in a process group of its own: cleanup stops a whole lane
run_lane() {  # run_lane NAME START [VAR=value ...] -- PYTEST ARGS: one lane in the background
  local name=$1 start_brokers=$2; shift 2
  local envs=()
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done
  shift
  rm -f "test-artifacts/lane-$name.rc" "test-artifacts/lane-$name.pgid"
  (
    start=$(date +%s) rc=0
    $start_brokers || rc=$?
    # The slow and repeated proofs run in make test-slow, make soak and make test-full-bench.
    [ "$rc" != 0 ] || env ${envs[@]+"${envs[@]}"} "${PYTEST[@]}" "$@" -m "not slow" --lane "$name" \
      --junitxml="test-artifacts/junit-$name.xml" || rc=$?
    echo "[test] lane $name: exit $rc after $(( $(date +%s) - start )) s"
    echo "$rc" > "test-artifacts/lane-$name.rc"
  ) > "test-artifacts/lane-$name.log" 2>&1 &
  lanes_pgids+=("$!")
  echo "$!" > "test-artifacts/lane-$name.pgid"
}
done_lanes() {  # the lanes that have finished, in the order given (a lane whose processes are all
  local name   # gone without a result failed: it was killed)
  for name in "$@"; do
    if [ ! -f "test-artifacts/lane-$name.rc" ] && [ -f "test-artifacts/lane-$name.pgid" ] \
        && ! kill -0 -- "-$(cat "test-artifacts/lane-$name.pgid")" 2>/dev/null; then
      echo "[test] lane $name: killed, no result" >> "test-artifacts/lane-$name.log"
      echo 1 > "test-artifacts/lane-$name.rc"
    fi
    [ -f "test-artifacts/lane-$name.rc" ] && echo "$name"
  done
  return 0
}

run_lane cluster start_cluster -- tests notebooks labs "$@"
run_lane labs start_pair -- tests labs "$@"
run_lane lessons start_lane_pair BROKERLAB_DATA_DIR="$LANE_DATA" BROKERLAB_PORT_OFFSET=$LANE_OFFSET \
  -- tests notebooks "$@"
run_lane bench start_bench_pair BROKERLAB_DATA_DIR="$BENCH_DATA" BROKERLAB_PORT_OFFSET=$BENCH_OFFSET \
  -- tests notebooks "$@"
run_lane binder nothing_to_start -- tests/binder "$@"
reported=""
while [ "$(done_lanes cluster labs lessons binder bench | wc -l)" -lt 5 ]; do
  sleep 2
  for name in $(done_lanes cluster labs lessons binder bench); do
    case " $reported " in *" $name "*) continue;; esac
    reported="$reported $name"
    tail -n 1 "test-artifacts/lane-$name.log"
  done
done

rc=0
for name in cluster labs lessons binder bench; do
  echo
  echo "================================ lane $name ================================"
  cat "test-artifacts/lane-$name.log"
  [ "$(cat "test-artifacts/lane-$name.rc")" = 0 ] || rc=1
done
echo
for name in cluster labs lessons binder bench; do tail -n 1 "test-artifacts/lane-$name.log"; done
echo "[test] all lanes done $(( $(date +%s) - t0 )) s after they started"
exit "$rc"
