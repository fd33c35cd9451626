# shellcheck shell=bash
# consensus-fd — the data plane's host-failure detector on a HEALTHY group: how often does it fire with no failure?
# (issue 6: "failure threshold a multiple of the RTT EWMA (alpha 0.8) ... measured false-positive rate documented").
#
# Sourced by bench/run (root). It reuses consensus-vr's topology and helpers (this file sources
# bench/scenarios/consensus-vr.sh, then overrides what differs): a switch namespace with a bridge, one namespace per
# member and one for the client, every name starting with xbfd<pid>, removed at exit (also on failure and ^C).
#
# Tests: t2 t3 t5 t8 — samples/timestamp-server.xps compiled with `failure_threshold N;` (sed; the threshold is the
# block's, compiled into the data plane), 3 members, every member `bin/xps consensus-node ART-tN ... --on-failure
# resume` (a detection is printed by the leader — "host failure K: op, age > limit (threshold x rtt, floor)" — and
# the stopped flag is cleared at once, so the healthy group keeps serving and every detection is counted).
# Modes (the harness's two names):
#   baseline  --failure-floor-ms 50  (the agent's default floor: failure only past max(threshold x rtt, 50 ms))
#   fast      --failure-floor-ms 0   (the bare rule: failure past threshold x rtt)
# Load: the closed-loop client, FD_CLIENTS clients x FD_REQUESTS requests each (`bin/xps-vr client`), every run; the
# note column has detections (the leader's "host failure" lines during the run), the run's seconds, detections per
# minute and per 10,000 requests, and the client's resends (a detection drops requests until it is cleared).
#
# Knobs: FD_THRESHOLDS ("2 3 5 8"), FD_CLIENTS (4), FD_REQUESTS (per client, 15000), FD_WARM (per client, 500),
# FD_TIMEOUT_MS (200), FD_XDP_MODE (native).

# shellcheck source=consensus-vr.sh
source "$BENCH/scenarios/consensus-vr.sh"

FD_THRESHOLDS="${FD_THRESHOLDS:-2 3 5 8}"
VR_CLIENTS="${FD_CLIENTS:-4}"
VR_REQUESTS="${FD_REQUESTS:-15000}"
VR_WARM="${FD_WARM:-500}"
VR_TIMEOUT_MS="${FD_TIMEOUT_MS:-200}"
VR_XDP_MODE="${FD_XDP_MODE:-native}"
VR_READBACK_REPS=0
VR_ID="xbfd$$"
VR_SUBNET="10.253.78"
FD_N=3
SCENARIO_RESIDENT=0

fd_floor_ms() { [ "$1" = fast ] && echo 0 || echo 50; }

scenario_setup() {
  bench_need ip clang bpftool python3 sed timeout
  [ "$(id -u)" = 0 ] || die "consensus-fd needs root (network namespaces and BPF)"
  local t
  for t in $FD_THRESHOLDS; do
    [[ "$t" =~ ^[0-9]+$ ]] && [ "$t" -ge 1 ] && [ "$t" -le 100 ] || die "FD_THRESHOLDS: 1..100 each, got '$t'"
  done
  trap 'vr_teardown; bench_cleanup; rm -rf "$WORK"' EXIT
  "$ROOT/bin/xps" --help > /dev/null || die "bin/xps (runtime agent) does not build or run"
  "$ROOT/bin/xps-vr" --help > /dev/null 2>&1 || true
  ls "$ROOT"/consensus/target/consensus-*.jar > /dev/null 2>&1 || die "bin/xps-vr: the consensus jar was not built"
  clang -O2 -target bpf -I"/usr/include/$(uname -m)-linux-gnu" -c "$BENCH/lib/consensus-vr/xdp_pass.c" \
    -o "$WORK/xdp_pass.o" || die "compiling bench/lib/consensus-vr/xdp_pass.c failed"
  for t in $FD_THRESHOLDS; do
    mkdir -p "$WORK/src-t$t"
    sed "s/^\( *\)failure_threshold [0-9]*;/\1failure_threshold $t;/" "$ROOT/samples/timestamp-server.xps" \
      > "$WORK/src-t$t/timestamp-server.xps"
    grep -q "failure_threshold $t;" "$WORK/src-t$t/timestamp-server.xps" || die "sed did not set failure_threshold $t"
    XPSC_NO_BUILD="${XPSC_NO_BUILD:-0}" "$ROOT/bin/xpsc" compile "$WORK/src-t$t/timestamp-server.xps" --target ebpf \
      -o "$WORK/art-t$t" > "$WORK/xpsc-t$t.log" 2>&1 || { cat "$WORK/xpsc-t$t.log" >&2; die "xpsc compile (threshold $t) failed"; }
    grep -q "\"failureThreshold\" *: *$t\b" "$WORK"/art-t$t/ebpf/*/*.manifest.json "$WORK"/art-t$t/*.manifest.json 2>/dev/null \
      || log "note: could not confirm failureThreshold $t in the manifest of art-t$t"
  done
}

scenario_describe() {
  printf '# consensus-fd: false positives of the data plane host-failure detector on a healthy group, kernel %s\n' "$(uname -r)"
  printf '# thresholds: %s (samples/timestamp-server.xps with "failure_threshold N;" by sed); %s members\n' "$FD_THRESHOLDS" "$FD_N"
  printf '# member: ip netns exec NS bin/xps consensus-node ART-tN --members IPS --macs MACS --index I --interface IF --xdp-mode %s --on-failure resume --failure-floor-ms F\n' "$VR_XDP_MODE"
  printf '# modes: baseline = --failure-floor-ms 50 (the default), fast = --failure-floor-ms 0 (the bare threshold x rtt rule)\n'
  printf '# load: ip netns exec CLIENT_NS bin/xps-vr client --members IPS --bind %s --clients %s --requests %s --timeout-ms %s\n' \
    "$(vr_client_ip)" "$VR_CLIENTS" "$VR_REQUESTS" "$VR_TIMEOUT_MS"
  printf '# loadavg at start: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
}

scenario_tests() {
  local t out=""
  for t in $FD_THRESHOLDS; do out+="${out:+ }t$t"; done
  echo "$out"
}

scenario_start() { # MODE — 3 members for the harness's current test (t2 ...: $test)
  local mode="$1" tt="${test:-}" t n="$FD_N" i members macs
  [[ "$tt" =~ ^t([0-9]+)$ ]] || die "consensus-fd: scenario_start needs the harness's test (t5 ...), got '$tt'"
  t="${BASH_REMATCH[1]}"
  VR_N="$n"
  vr_net "$n"
  members="$(vr_list "$n" vr_ip)"
  macs="$(vr_list "$n" vr_mac)"
  for ((i = n - 1; i >= 0; i--)); do
    local ns="${VR_ID}m$i" logf="$WORK/member-$mode-$i.log"
    bench_spawn "$mode" "$logf" env XPS_NO_BUILD=1 ip netns exec "$ns" \
      "$ROOT/bin/xps" consensus-node "$WORK/art-t$t" --members "$members" --macs "$macs" --index "$i" \
      --interface "${VR_ID}m$i" --xdp-mode "$VR_XDP_MODE" --on-failure resume --failure-floor-ms "$(fd_floor_ms "$mode")"
    VR_PID[$i]="$SPAWNED_PID"
  done
  for ((i = 0; i < n; i++)); do
    local k up=0
    for k in $(seq 1 600); do
      if grep -q "member $i of $n" "$WORK/member-$mode-$i.log" 2>/dev/null; then up=1; break; fi
      kill -0 "${VR_PID[$i]}" 2>/dev/null || break
      sleep 0.1
    done
    [ "$up" = 1 ] || { cat "$WORK/member-$mode-$i.log" >&2; die "$mode member $i of $n did not start"; }
  done
}

scenario_load() { # TEST MODE REP OUTFILE
  local mode="$2" out="$4" rc=0 d0 d1 w0 w1
  VR_MODE="$mode"
  d0="$(grep -c 'host failure' "$WORK/member-$mode-0.log" 2>/dev/null || true)"
  w0="$(date +%s.%N)"
  vr_client "$VR_REQUESTS" > "$out" 2>&1 || rc=$?
  w1="$(date +%s.%N)"
  sleep 0.2 # a detection still in the leader's output buffer
  d1="$(grep -c 'host failure' "$WORK/member-$mode-0.log" 2>/dev/null || true)"
  grep 'host failure' "$WORK/member-$mode-0.log" | tail -n +"$((d0 + 1))" | head -20 >> "$out" || true
  printf 'detections=%s seconds=%s\n' "$((d1 - d0))" "$(python3 -c "print(round($w1 - $w0, 2))")" >> "$out"
  return "$rc"
}

scenario_parse() { # TEST OUTFILE — rps p50_ms p99_ms note
  python3 - "$2" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
m = re.search(r"answered (\d+) unanswered (\d+) resends (\d+) duplicates (\d+) in ([0-9.]+) s: ([0-9.]+) req/s, "
              r"p50 ([0-9.]+) us, p99 ([0-9.]+) us", text)
if not m:
    sys.exit("no client summary line")
answered, resends = int(m.group(1)), int(m.group(3))
rps, p50, p99 = float(m.group(6)), float(m.group(7)) / 1000, float(m.group(8)) / 1000
d = re.search(r"detections=(\d+) seconds=([0-9.]+)", text)
det, secs = int(d.group(1)), float(d.group(2))
print(f"{rps:.0f}", f"{p50:.3f}", f"{p99:.3f}",
      f"detections={det},seconds={secs:.1f},per_min={det * 60 / secs:.1f},per_10k={det * 1e4 / max(answered, 1):.2f},"
      f"resends={resends}")
PY
}
