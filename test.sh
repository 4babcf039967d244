#!/usr/bin/env bash
# The test command: every package, with the race detector, including the
# tests against real peers (ipmi_sim, ipmitool, OpenSSH). Set
# BMCGATE_REQUIRE_PEERS=1 to fail instead of skip when a peer is missing.
set -euo pipefail
cd "$(dirname "$0")"
exec go test -race -count=1 -timeout 20m ./... "$@"
