# Sourced by scripts/test.sh and scripts/test-rabbitmq4.sh: the last assertion of a run, in its
# EXIT trap. exit_checked RC LEFT CHECK PATTERN — LEFT=1 means a `brokerlab … down` already failed;
# with CHECK=1 every `brokerlab ps` line matching PATTERN (a broker process of this checkout still
# running) fails the run too. Exits with RC, or 1 when something is left and RC was 0.
exit_checked() {
  local rc=$1 left=$2 leftover
  if [ "$3" = 1 ]; then
    leftover=$($BL ps | grep -e "$4" || true)
    [ -z "$leftover" ] || { echo "$leftover" >&2; left=1; }
  fi
  if [ "$left" = 1 ]; then
    echo "[test] FAILED: a broker process of this checkout is still running after the run" >&2
    [ "$rc" = 0 ] && rc=1
  fi
  exit "$rc"
}
