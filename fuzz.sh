#!/usr/bin/env bash
# Runs bmcgate's Go fuzz targets for real, one after the other (go test
# fuzzes one target per run), and prints each one's executions per second.
# Plain "go test" (./test.sh) already replays every target's seeds and the
# inputs kept under testdata/fuzz/. When a target fails, go test writes the
# input to the package's testdata/fuzz/FuzzX/: fix the bug and commit the
# file with the fix, so that go test replays it from then on.
#   ./fuzz.sh                            # every target, 10s each
#   FUZZTIME=60s ./fuzz.sh               # longer
#   ./fuzz.sh FuzzClassify FuzzParse     # some targets
# FUZZMINIMIZETIME (default 5s) bounds the minimisation of each new input;
# go test's default of 60s leaves most of a short run minimising.
set -euo pipefail
cd "$(dirname "$0")"
fuzztime=${FUZZTIME:-10s}
minimize=${FUZZMINIMIZETIME:-5s}

# Every "func FuzzX(" in a test file, as "DIR NAME".
mapfile -t all < <(grep -rH --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*(' . |
  sed -E 's|^\./(.*)/[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]*)\(.*|\1 \2|' | sort)
targets=()
if [ $# -eq 0 ]; then targets=("${all[@]}"); fi
for want in "$@"; do
  found=
  for t in "${all[@]}"; do
    if [ "${t#* }" = "$want" ]; then targets+=("$t"); found=1; fi
  done
  if [ -z "$found" ]; then
    echo "no fuzz target named $want; the targets are:" >&2
    printf '  %s\n' "${all[@]#* }" >&2
    exit 2
  fi
done

# seconds DURATION: a Go duration such as 1m0s or 31s in seconds.
seconds() { awk -v d="$1" 'BEGIN { s = 0; if (match(d, /[0-9]+m/)) s += 60 * substr(d, RSTART, RLENGTH - 1);
  if (match(d, /[0-9.]+s/)) s += substr(d, RSTART, RLENGTH - 1); print s }'; }

log=$(mktemp)
trap 'rm -f "$log"' EXIT
failed=0
printf '%-22s %-16s %10s %9s %5s  %s\n' TARGET PACKAGE EXECS EXECS/S NEW RESULT
for t in "${targets[@]}"; do
  dir=${t% *} name=${t#* }
  result=ok
  go test -run '^$' -fuzz "^$name\$" -fuzztime "$fuzztime" -fuzzminimizetime "$minimize" "./$dir" >"$log" 2>&1 || result=FAIL
  last=$(grep -E '^fuzz: elapsed: [^,]+, execs: ' "$log" | tail -1 || true)
  elapsed=$(sed -E 's/^fuzz: elapsed: ([^,]+),.*/\1/' <<<"$last")
  execs=$(sed -E 's/.*execs: ([0-9]+).*/\1/' <<<"$last")
  new=$(sed -nE 's/.*new interesting: ([0-9]+).*/\1/p' <<<"$last")
  rate=$(awk -v n="${execs:-0}" -v s="$(seconds "${elapsed:-0s}")" 'BEGIN { printf "%d", (s > 0 ? n / s : 0) }')
  printf '%-22s %-16s %10s %9s %5s  %s\n' "$name" "$dir" "${execs:-0}" "$rate" "${new:-0}" "$result"
  if [ "$result" = FAIL ]; then
    failed=1
    grep -vE '^fuzz: elapsed: ' "$log" | sed 's/^/    /'
  fi
done
exit $failed
