#!/usr/bin/env bash
# Runs bmcgate's benchmarks against real peers and prints the figures side
# by side with their references. Run on demand on a quiet machine; nothing
# here is a pass/fail timer.
#   ./bench.sh                      # every section
#   ./bench.sh spine console        # some sections: spine console web webproxy webui audit scan policy redfish faults sensors bmcssh media
# Needs the test peers (ipmi_sim, ipmitool, FreeIPMI, OpenSSH client and sshd,
# socat, chromium, redfishtool, python3-sushy) and, for
# the webproxy section, nginx and wrk (apt-get install nginx wrk).
set -euo pipefail
cd "$(dirname "$0")"
export BMCGATE_REQUIRE_PEERS=1
sections=("$@")
[ ${#sections[@]} -gt 0 ] || sections=(spine console web webproxy webui audit scan policy redfish faults sensors bmcssh media)

# run PACKAGE REGEXP BENCHTIME [extra go test flags...]: benchmark lines and
# the figures the benchmarks log.
run() {
  local pkg=$1 re=$2 bt=$3; shift 3
  go test -run '^$' -bench "$re" -benchtime "$bt" -timeout 30m -v "$@" "$pkg" 2>&1 |
    grep -E '^Benchmark|_test\.go:[0-9]+:|^(ok|FAIL|---)' | grep -v 'harness_test\.go' || true
}

for s in "${sections[@]}"; do
  case $s in
  spine)
    echo "== spine: ssh power status (ControlMaster) vs ipmitool, same ipmi_sim"
    run ./gateway 'PowerStatusPaths' 50x
    echo "== spine: broker warm session vs cold connect+call+close"
    run ./proxy/ipmi 'WarmPowerStatus|ColdPowerStatus|GetDeviceID' 2000x
    echo "== spine: fan-out power status over 200 simulated BMCs"
    run ./proxy/ipmi 'Fanout200' 20x
    echo "== spine: audit appends, 32 concurrent durable writers"
    run ./audit '^Benchmark(AppendDurable32|AppendSingle|Verify)$' 3s
    ;;
  console)
    echo "== console: keystroke echo round trip, gateway vs go-ipmi SOL client"
    run ./gateway 'ConsoleEchoRTT' 2000x
    echo "== console: 500 simulated consoles, one SSH viewer each"
    BMCGATE_BENCH_CONSOLES=500 run ./gateway 'Consoles500' 1x
    ;;
  web)
    echo "== web: API power status (bearer token) vs SSH ControlMaster, 64 clients; dashboard of 1,000 BMCs"
    run ./gateway 'Web(APIPowerStatus|Dashboard1000)' 500x
    ;;
  webproxy)
    echo "== webproxy: bmcgate BMC web proxy vs nginx, same upstream, 64 connections"
    BMCGATE_BENCH=1 go test -run TestBenchVsNginx -count=1 -v ./proxy/webui/ 2>&1 |
      grep -E '_test\.go:[0-9]+:|^(ok|FAIL|---)' || true
    ;;
  webui)
    echo "== webui: BMC web UI through the whole gateway (BMC host, session, policy, audit) vs nginx, same upstream: fixed rates 20 and 200 req/s, then 64 connections"
    BMCGATE_BENCH=1 go test -run TestBenchWebUIVsNginx -count=1 -timeout 30m -v ./gateway/ 2>&1 |
      grep -E 'bench_webui_test\.go:[0-9]+:|^(ok|FAIL|---)' || true
    ;;
  audit)
    echo "== audit: searches on a generated log of 1,000,000 records (indexes) vs grep -c -F over the same records as JSON lines"
    echo "   (the log is built once through audit.Append into \${BMCGATE_BENCH_DIR:-\$TMPDIR/bmcgate-bench}, a few minutes)"
    run ./audit 'Audit1MSearch' 20x
    echo "== audit: full verify (chain and indexes) vs sha256sum of the JSON lines; incremental verify of 10,000 new records"
    run ./audit 'Audit1MVerify' 1x
    echo "== audit: rebuilding the indexes of 1,000,000 records (what the first start on an unindexed log does)"
    run ./audit 'Audit1MReindex' 1x
    echo "== audit: durable appends, 32 concurrent writers and one; the disk's own write+fsync of a page"
    run ./audit 'AppendDurable32|AppendSingle|DiskFsync' 3s
    ;;
  scan)
    echo "== scan: full posture scan of 500 simulated BMCs"
    run ./proxy/scan 'ScanFleet500' 1x
    ;;
  policy)
    echo "== policy: per-command decision of an open session, roles resolved from the current config vs captured at login"
    run ./gateway/service 'DecisionLiveCaller' 200000x
    echo "== policy: SSH certificate issuance by the gateway's CA (registry empty / 1,000 live) vs ssh-keygen -s, same CA key"
    run ./gateway/sshca 'Issue' 200x
    ;;
  redfish)
    echo "== redfish: broker warm session vs cold (TLS, login, discovery, call, logout), same simulated BMC"
    run ./proxy/redfish 'Redfish(Warm|Cold)PowerStatus' 2000x
    echo "== redfish: redfishtool (one process per read) and python3-sushy (reads over one session), same simulated BMC"
    run ./proxy/redfish 'RedfishtoolSystems|SushyPowerState' 20x
    echo "== redfish: fan-out power status over 500 simulated Redfish BMCs (32 at a time)"
    run ./proxy/redfish 'RedfishFanout500' 20x
    echo "== redfish: ssh power status (ControlMaster, warm Redfish session) vs redfishtool vs python3-sushy (one process per read), same simulated BMC"
    run ./gateway 'RedfishPowerStatusPaths' 20x
    ;;
  faults)
    echo "== faults: power status over a link losing 10 % each way (namespaced relay, needs root), broker vs ipmitool"
    run ./proxy/ipmi 'LossyPowerStatus' 50x
    ;;
  sensors)
    echo "== sensors: broker with SDR cache vs uncached walks vs FreeIPMI ipmi-sensors with its SDR cache, same ipmi_sim (IPMI exchanges counted per call)"
    run ./proxy/ipmi '^BenchmarkSensors$' 300x
    echo "== sensors: ssh sensors (OpenSSH ControlMaster) vs ipmi-sensors with its SDR cache, same ipmi_sim"
    run ./gateway 'SensorsPaths' 100x
    ;;
  media)
    echo "== media: image listener vs nginx, same 64 MiB file over TLS, 8 BMCs reading it at once in 1 MiB ranges"
    run ./proxy/media 'ImageServe8' 5x
    echo "== media: the listener's own cost per 1 MiB range (no network, no TLS): time and allocations"
    run ./proxy/media 'ServeRange' 2000x -benchmem
    ;;
  bmcssh)
    echo "== bmcssh: keystroke echo round trip through OpenSSH's sshd (socat to a fake host serial port), bmcssh line vs OpenSSH's ssh"
    run ./proxy/bmcssh 'SSHEchoRTT' 2000x
    echo "== bmcssh: heap and goroutines per attached line, 50 lines to one sshd"
    run ./proxy/bmcssh 'SSHLineMemory' 1x
    ;;
  *) echo "unknown section $s (spine console web webproxy webui audit scan policy redfish faults sensors bmcssh media)" >&2; exit 2 ;;
  esac
done
