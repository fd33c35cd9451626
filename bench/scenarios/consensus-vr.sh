# shellcheck shell=bash
# DESC: VR timestamp server, 3/5/7 replicas: host-only Java VR (bin/xps-vr) vs the eBPF data plane (xps consensus-node)
#
# Sourced by bench/run (see bench/README.md; results: docs/benchmarks.md, "consensus-vr"); needs root (namespaces, BPF). Issue 6's benchmark:
# the replicated timestamp server (samples/timestamp-server.xps, docs/consensus.md) with 3, 5 and 7 members,
# host-only VR against the XDP data plane, in the same run; and the 1M-entry log read-back.
#
# Topology (as runtime-agent's ConsensusEndToEndTest / VrNet), rebuilt for every run: a switch namespace with a
# bridge, one namespace per member and one for the client, each linked to the bridge by a veth pair; every name
# starts with xbvr<pid>. The switch-side veth ends carry an XDP_PASS program (bench/lib/consensus-vr/xdp_pass.c):
# veth delivers a frame a member sends with XDP_TX only to a peer that has NAPI, i.e. an XDP program. Both modes
# get the same topology.
#
# Modes (they cannot coexist, and each test has its own group size: SCENARIO_RESIDENT=0, the members are started
# and stopped around every run; scenario_start reads the test name — r3, r5, r7 — from the harness's loop
# variable $test):
#   baseline  every member is `bin/xps-vr node --members IPS --index I --log-capacity 1048576` (module consensus:
#             the whole protocol in Java on UDP sockets) in its namespace
#   fast      every member is `bin/xps consensus-node ART --members IPS --macs MACS --index I --interface IF
#             --xdp-mode native` (runtime-agent: ConsensusDataPlane on the member's veth, TimestampService behind
#             it); ART is samples/timestamp-server.xps compiled by `bin/xpsc compile --target ebpf` with
#             `replicas N;` (sed) — its log holds 1,048,576 entries, as the baseline's
# Load: the existing closed-loop client, `bin/xps-vr client --members IPS --clients VR_CLIENTS --requests
# VR_REQUESTS` (requests per client) from the client namespace; its own throughput, p50 and p99 (measured in the
# client, without its JVM's start-up). scenario_prepare first runs VR_WARM requests per client (JIT warm-up of
# the fresh member JVMs, and the check that the group answers).
#
# CPU per request (note column, per run): cpu_us = the member processes' user+system CPU (/proc/PID/stat, all
# threads, summed over the members) / answered requests; mach_us = the whole machine's busy CPU (/proc/stat:
# client, members, softirqs, and anything else running) / answered requests; bpf_ns = the data plane's programs'
# run time (kernel.bpf_stats_enabled, run_time_ns of every member's programs) / answered requests. The
# data plane's XDP/TC work runs in softirq context and is charged to whichever task the CPU was running (often the
# client or ksoftirqd), so cpu_us alone under-counts the fast mode: read it with mach_us and bpf_ns.
#
# Read-back (issue 6: "reading back 1M entries in under 300 ms"): in scenario_setup, `bin/xps consensus-readback
# ART --entries VR_READBACK_ENTRIES --reps VR_READBACK_REPS`: fills a data plane's log map with ops 1..N by
# bpf_map_update_batch (directly, not through the data plane), then times ConsensusDataPlane.getNicLog(1, N);
# its output is in the results file ("consensus-readback") and the log.
#
# Everything (processes, namespaces with their veths and bridge) is removed at exit, also on failure and ^C.
# Nothing is pinned.
#
# Knobs: VR_REPLICAS ("3 5 7"), VR_CLIENTS (4), VR_REQUESTS (per client, 5000), VR_WARM (per client, 500),
# VR_TIMEOUT_MS (200), VR_XDP_MODE (native), VR_READBACK_ENTRIES (1000000), VR_READBACK_REPS (7; 0 skips),
# VR_JAVA_OPTS (the members' extra JVM options, both modes).

VR_REPLICAS="${VR_REPLICAS:-3 5 7}"
VR_CLIENTS="${VR_CLIENTS:-4}"
VR_REQUESTS="${VR_REQUESTS:-5000}"
VR_WARM="${VR_WARM:-500}"
VR_TIMEOUT_MS="${VR_TIMEOUT_MS:-200}"
VR_XDP_MODE="${VR_XDP_MODE:-native}"
VR_READBACK_ENTRIES="${VR_READBACK_ENTRIES:-1000000}"
VR_READBACK_REPS="${VR_READBACK_REPS:-7}"
VR_JAVA_OPTS="${VR_JAVA_OPTS:-}"
VR_LOG_CAPACITY=1048576       # the sample's `log capacity`; the baseline gets the same
VR_ID="xbvr$$"
VR_SUBNET="10.253.77"
VR_STATS_WAS=""
VR_N=0                        # members of the group that is up
VR_MODE=""                    # the mode of the current load run
SCENARIO_RESIDENT=0

vr_ip() { printf '%s.%d' "$VR_SUBNET" "$(($1 + 1))"; }
vr_mac() { printf '02:7b:00:00:00:%02x' "$1"; }
vr_client_ip() { printf '%s.100' "$VR_SUBNET"; }
vr_list() { # N FUNCTION — "f(0),f(1),...,f(N-1)"
  local i out=""
  for ((i = 0; i < $1; i++)); do out+="${out:+,}$($2 "$i")"; done
  printf '%s' "$out"
}

scenario_setup() {
  bench_need ip clang bpftool python3 sed timeout
  [ "$(id -u)" = 0 ] || die "consensus-vr needs root (network namespaces and BPF)"
  local r
  for r in $VR_REPLICAS; do
    [[ "$r" =~ ^[0-9]+$ ]] && [ "$r" -ge 3 ] && [ "$r" -le 9 ] || die "VR_REPLICAS: 3..9 each, got '$r'"
  done
  trap 'vr_teardown; bench_cleanup; rm -rf "$WORK"' EXIT
  # Build once, before anything starts: the members run with XPS_NO_BUILD=1 / XPS_VR_NO_BUILD=1.
  "$ROOT/bin/xps" --help > /dev/null || die "bin/xps (runtime agent) does not build or run"
  "$ROOT/bin/xps-vr" --help > /dev/null 2>&1 || true
  ls "$ROOT"/consensus/target/consensus-*.jar > /dev/null 2>&1 || die "bin/xps-vr: the consensus jar was not built"
  clang -O2 -target bpf -I"/usr/include/$(uname -m)-linux-gnu" -c "$BENCH/lib/consensus-vr/xdp_pass.c" \
    -o "$WORK/xdp_pass.o" || die "compiling bench/lib/consensus-vr/xdp_pass.c failed"
  for r in $VR_REPLICAS; do
    mkdir -p "$WORK/src-r$r"
    sed "s/^\( *\)replicas 3;/\1replicas $r;/" "$ROOT/samples/timestamp-server.xps" > "$WORK/src-r$r/timestamp-server.xps"
    grep -q "replicas $r;" "$WORK/src-r$r/timestamp-server.xps" || die "sed did not set replicas $r"
    XPSC_NO_BUILD="${XPSC_NO_BUILD:-0}" "$ROOT/bin/xpsc" compile "$WORK/src-r$r/timestamp-server.xps" --target ebpf \
      -o "$WORK/art-r$r" > "$WORK/xpsc-r$r.log" 2>&1 || { cat "$WORK/xpsc-r$r.log" >&2; die "xpsc compile (replicas $r) failed"; }
  done
  VR_STATS_WAS="$(sysctl -n kernel.bpf_stats_enabled)"
  sysctl -q -w kernel.bpf_stats_enabled=1
  vr_readback
}

vr_readback() { # the 1M-entry read-back, once, into the results file
  [ "$VR_READBACK_REPS" -gt 0 ] || return 0
  local r; r="$(set -- $VR_REPLICAS; echo "$1")"
  log "read-back: $VR_READBACK_ENTRIES log entries, $VR_READBACK_REPS repetitions"
  XPS_NO_BUILD=1 timeout 600 "$ROOT/bin/xps" consensus-readback "$WORK/art-r$r" --entries "$VR_READBACK_ENTRIES" \
    --reps "$VR_READBACK_REPS" > "$WORK/readback.out" 2>&1 || { cat "$WORK/readback.out" >&2; die "consensus-readback failed"; }
  { printf '# command: XPS_NO_BUILD=1 bin/xps consensus-readback ART --entries %s --reps %s\n' "$VR_READBACK_ENTRIES" \
      "$VR_READBACK_REPS"; cat "$WORK/readback.out"; } > "$WORK/readback.txt"
  bench_raw "consensus-readback (getNicLog over the whole log)" "$WORK/readback.txt"
  log "$(grep 'readback median' "$WORK/readback.out")"
}

scenario_describe() {
  printf '# consensus-vr: replicated timestamp server (samples/timestamp-server.xps), kernel %s, %s\n' "$(uname -r)" \
    "$(ip -V)"
  printf '# replicas: %s; topology per run: netns per member + client, veth pairs to a bridge, XDP_PASS on the switch-side ends\n' "$VR_REPLICAS"
  printf '# baseline member: ip netns exec NS bin/xps-vr node --members IPS --index I --log-capacity %s\n' "$VR_LOG_CAPACITY"
  printf '# fast member:     ip netns exec NS bin/xps consensus-node ART-rN --members IPS --macs MACS --index I --interface IF --xdp-mode %s\n' "$VR_XDP_MODE"
  printf '#                  (ART-rN: bin/xpsc compile timestamp-server.xps --target ebpf, with "replicas N;" by sed)\n'
  printf '# prepare (not measured): ip netns exec CLIENT_NS bin/xps-vr client --members IPS --bind %s --clients %s --requests %s --timeout-ms %s\n' \
    "$(vr_client_ip)" "$VR_CLIENTS" "$VR_WARM" "$VR_TIMEOUT_MS"
  printf '# load:               ip netns exec CLIENT_NS bin/xps-vr client --members IPS --bind %s --clients %s --requests %s --timeout-ms %s\n' \
    "$(vr_client_ip)" "$VR_CLIENTS" "$VR_REQUESTS" "$VR_TIMEOUT_MS"
  printf '# member JVM options: %s\n' "${VR_JAVA_OPTS:-(none)}"
}

scenario_tests() {
  local r out=""
  for r in $VR_REPLICAS; do out+="${out:+ }r$r"; done
  echo "$out"
}

vr_net() { # N — the switch, N member namespaces and the client namespace
  local n="$1" i sw="${VR_ID}s" br="${VR_ID}br"
  ip netns add "$sw"
  ip -n "$sw" link add "$br" type bridge
  ip -n "$sw" link set "$br" up
  for ((i = 0; i <= n; i++)); do
    local tag ns ip mac
    if [ "$i" -lt "$n" ]; then tag="m$i"; ip="$(vr_ip "$i")"; mac="$(vr_mac "$i")"
    else tag="c"; ip="$(vr_client_ip)"; mac="02:7b:00:00:00:63"; fi
    ns="${VR_ID}$tag"
    ip netns add "$ns"
    ip -n "$sw" link add "${VR_ID}${tag}p" type veth peer name "${VR_ID}$tag" netns "$ns"
    ip -n "$sw" link set "${VR_ID}${tag}p" master "$br"
    ip -n "$sw" link set "${VR_ID}${tag}p" xdpdrv obj "$WORK/xdp_pass.o" sec xdp
    ip -n "$sw" link set "${VR_ID}${tag}p" up
    ip -n "$ns" link set "${VR_ID}$tag" address "$mac"
    ip -n "$ns" addr add "$ip/24" dev "${VR_ID}$tag"
    ip -n "$ns" link set "${VR_ID}$tag" up
    ip -n "$ns" link set lo up
  done
}

vr_teardown() { # every namespace of this run (their veths and the bridge go with them); bpf_stats back
  local ns
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^${VR_ID}" || true); do
    ip netns del "$ns" 2>/dev/null || true
  done
  if [ -n "$VR_STATS_WAS" ]; then sysctl -q -w kernel.bpf_stats_enabled="$VR_STATS_WAS"; VR_STATS_WAS=""; fi
}

scenario_start() { # MODE — the group for the harness's current test (r3/r5/r7, its loop variable $test)
  local mode="$1" t="${test:-}" n i members macs
  [[ "$t" =~ ^r([0-9]+)$ ]] || die "consensus-vr: scenario_start needs the harness's test (r3 ...), got '$t'"
  n="${BASH_REMATCH[1]}"
  VR_N="$n"
  vr_net "$n"
  members="$(vr_list "$n" vr_ip)"
  macs="$(vr_list "$n" vr_mac)"
  for ((i = n - 1; i >= 0; i--)); do # replicas first, the leader (0) last
    local ns="${VR_ID}m$i" logf="$WORK/member-$mode-$i.log"
    if [ "$mode" = fast ]; then
      bench_spawn "$mode" "$logf" env XPS_NO_BUILD=1 XPS_JAVA_OPTS="$VR_JAVA_OPTS" ip netns exec "$ns" \
        "$ROOT/bin/xps" consensus-node "$WORK/art-r$n" --members "$members" --macs "$macs" --index "$i" \
        --interface "${VR_ID}m$i" --xdp-mode "$VR_XDP_MODE"
    else
      bench_spawn "$mode" "$logf" env XPS_VR_NO_BUILD=1 XPS_JAVA_OPTS="$VR_JAVA_OPTS" ip netns exec "$ns" \
        "$ROOT/bin/xps-vr" node --members "$members" --index "$i" --log-capacity "$VR_LOG_CAPACITY"
    fi
    VR_PID[$i]="$SPAWNED_PID"
  done
  for ((i = 0; i < n; i++)); do # each member says it is up ("member I of N"); bounded
    local k up=0
    for k in $(seq 1 600); do
      if grep -q "member $i of $n" "$WORK/member-$mode-$i.log" 2>/dev/null; then up=1; break; fi
      kill -0 "${VR_PID[$i]}" 2>/dev/null || break
      sleep 0.1
    done
    [ "$up" = 1 ] || { cat "$WORK/member-$mode-$i.log" >&2; die "$mode member $i of $n did not start"; }
  done
}
declare -gA VR_PID

vr_client() { # REQUESTS_PER_CLIENT — the closed-loop client from the client namespace, bounded
  XPS_VR_NO_BUILD=1 timeout 300 ip netns exec "${VR_ID}c" "$ROOT/bin/xps-vr" client --members "$(vr_list "$VR_N" vr_ip)" \
    --bind "$(vr_client_ip)" --clients "$VR_CLIENTS" --requests "$1" --timeout-ms "$VR_TIMEOUT_MS"
}

scenario_prepare() { # MODE — warm the fresh JVMs; every request must be answered
  local mode="$1" k
  for k in 1 2 3; do
    if vr_client "$VR_WARM" > "$WORK/prepare-$mode.out" 2>&1; then
      log "$mode: $VR_N members up; warm-up: $(grep -o 'answered.*' "$WORK/prepare-$mode.out")"
      return 0
    fi
    sleep 1
  done
  cat "$WORK/prepare-$mode.out" >&2
  for k in "$WORK"/member-"$mode"-*.log; do echo "== $k"; tail -5 "$k"; done >&2
  die "$mode: the group of $VR_N did not answer every warm-up request"
}

vr_machine_busy() { # busy CPU seconds of the whole machine so far (/proc/stat)
  awk -v hz="$(getconf CLK_TCK)" '/^cpu / { print ($2 + $3 + $4 + $7 + $8 + $9) / hz; exit }' /proc/stat
}

vr_bpf_stats() { # JSON {"program@leader|replicas": [run_time_ns, run_cnt]} over this run's members' programs
  # (each consensus-node prints "program ids I,X,E"; other processes' vr_* programs are not counted)
  local all leader
  all="$(cat "$WORK"/member-"$VR_MODE"-*.log 2>/dev/null | sed -n 's/.*program ids \([0-9,]*\).*/\1/p' | paste -sd, -)"
  leader="$(sed -n 's/.*program ids \([0-9,]*\).*/\1/p' "$WORK/member-$VR_MODE-0.log" 2>/dev/null | head -1)"
  [ -n "$all" ] || { echo "{}"; return 0; }
  bpftool -j prog show 2>/dev/null | VR_ALL_IDS="$all" VR_LEADER_IDS="$leader" python3 -c '
import json, os, sys
ids = lambda v: {int(i) for i in os.environ[v].split(",") if i}
mine, leader = ids("VR_ALL_IDS"), ids("VR_LEADER_IDS")
out = {}
for p in json.load(sys.stdin):
    if p.get("id") in mine:
        role = "leader" if p.get("id") in leader else "replicas"
        t = out.setdefault(p.get("name", "?") + "@" + role, [0, 0])
        t[0] += p.get("run_time_ns", 0); t[1] += p.get("run_cnt", 0)
print(json.dumps(out, separators=(",", ":")))' 2>/dev/null || echo "{}"
}

scenario_load() { # TEST MODE REP OUTFILE
  local mode="$2" out="$4" rc=0 c0 c1 m0 m1 b0 b1
  VR_MODE="$mode"
  c0="$(bench_mode_cpu "$mode")"; m0="$(vr_machine_busy)"; b0="$(vr_bpf_stats)"
  vr_client "$VR_REQUESTS" > "$out" 2>&1 || rc=$?
  c1="$(bench_mode_cpu "$mode")"; m1="$(vr_machine_busy)"; b1="$(vr_bpf_stats)"
  python3 - "$c0" "$c1" "$m0" "$m1" "$b0" "$b1" >> "$out" <<'PY'
import json, sys
c0, c1, m0, m1 = map(float, sys.argv[1:5])
b0, b1 = json.loads(sys.argv[5]), json.loads(sys.argv[6])
d = {n: [v[0] - b0.get(n, [0, 0])[0], v[1] - b0.get(n, [0, 0])[1]] for n, v in b1.items()}
for n, (t, c) in sorted(d.items()):
    if c:
        print(f"bpf program {n}: {c} runs, {t / c:.0f} ns per run")
t = sum(v[0] for v in d.values()); c = sum(v[1] for v in d.values())
print(f"member_cpu_s={c1 - c0:.3f} machine_cpu_s={m1 - m0:.3f} bpf_run_ns={t} bpf_runs={c}")
PY
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
answered, unanswered, resends = int(m.group(1)), int(m.group(2)), int(m.group(3))
rps, p50, p99 = float(m.group(6)), float(m.group(7)) / 1000, float(m.group(8)) / 1000
k = dict(re.findall(r"(\w+)=([0-9.]+)", text.split("answered", 1)[1]))
per = lambda x: float(k[x]) / answered if answered else 0.0
note = (f"cpu_us={per('member_cpu_s') * 1e6:.1f},mach_us={per('machine_cpu_s') * 1e6:.1f},"
        f"bpf_ns={per('bpf_run_ns'):.0f},resends={resends},unanswered={unanswered}")
print(f"{rps:.0f}", f"{p50:.3f}", f"{p99:.3f}", note)
PY
}

scenario_stop() { # MODE — stop the members (SIGTERM: the data-plane members detach), then the network
  local mode="$1" f
  bench_stop_mode "$mode"
  for f in "$WORK"/member-"$mode"-*.log; do
    [ -f "$f" ] || continue
    { printf '%s: ' "$(basename "$f" .log)"; tail -3 "$f" | tr '\n' ' '; echo; } \
      >> "$WORK/members-$mode.txt"
    rm -f "$f"
  done
  [ -f "$WORK/members-$mode.txt" ] && { bench_raw "$mode members at stop (${VR_N} members)" "$WORK/members-$mode.txt"; rm -f "$WORK/members-$mode.txt"; }
  local ns
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^${VR_ID}" || true); do
    ip netns del "$ns" 2>/dev/null || true
  done
}
