#!/usr/bin/env bash
# Runs bmcgate's benchmarks against real peers and prints the figures side
# by side. Needs the same peers as the tests (ipmi_sim, ipmitool, OpenSSH).
# Usage: ./bench.sh [go test -bench regexp]   (default: all of them)
set -euo pipefail
cd "$(dirname "$0")"
export BMCGATE_REQUIRE_PEERS=1
pattern="${1:-.}"
run() { # package, benchmark regexp, benchtime
  go test -run '^$' -bench "$2" -benchtime "$3" -v "$1" 2>&1 |
    grep -E '^(Benchmark|\s+bench_test|\s+\S+_test\.go:[0-9]+: )|ok|FAIL' || true
}
echo "== spine: power status, end to end vs reference client (same ipmi_sim)"
run ./gateway "PowerStatusPaths" 50x
echo "== spine: broker warm session vs cold connect+call+close (same ipmi_sim)"
run ./proxy/ipmi "WarmPowerStatus|ColdPowerStatus|GetDeviceID" 2000x
echo "== spine: fan-out power status over 200 simulated BMCs"
run ./proxy/ipmi "Fanout200" 20x
echo "== spine: audit appends, 32 concurrent durable writers"
run ./audit "AppendDurable32|AppendSingle|Verify" 3s
