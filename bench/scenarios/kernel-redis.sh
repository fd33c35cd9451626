# shellcheck shell=bash
# DESC: redis-benchmark against Debian's redis-server, with and without the kernel fast path (samples/redis-get.xps via bin/xps)
#
# Sourced by bench/run (see bench/README.md); needs root (cgroups, BPF). Two redis-servers stay up
# for the whole run, each in its own cgroup v2 group on its own loopback port: the baseline plain,
# the fast one with samples/redis-get.xps (compiled for its port) loaded by `bin/xps load` for its
# cgroup — sock_ops + sk_skb stream verdict + sk_msg, GETs of cached keys answered in the kernel.
#
# Keys are loaded with one SET per request (not --pipe): the SET write handler then puts each key
# into the kernel's cache map as Redis stores it (a --pipe segment holds more than the 32 messages
# a segment walk examines, and such writes pass without touching the map).
#
# Tests, as java-kv: get (every GET hits) and mix (90/10 GET/SET, two concurrent redis-benchmarks).
# The kernel's own cost per verdict-program run (the whole segment walk, handlers included: tail
# calls run inside the entry program's run) comes from kernel.bpf_stats_enabled, as run_time_ns /
# run_cnt of redis_verdict, and is added to each fast run's note (ns_per_run).
#
# Knobs: KV_KEYS KV_VALUE KV_CLIENTS KV_REQUESTS KV_PIPELINE as java-kv.

KV_KEYS="${KV_KEYS:-10000}"
KV_VALUE="${KV_VALUE:-16}"
KV_CLIENTS="${KV_CLIENTS:-50}"
KV_REQUESTS="${KV_REQUESTS:-300000}"
KV_PIPELINE="${KV_PIPELINE:-1}"
declare -gA KR_PORT KR_CGROUP   # global: the EXIT trap runs after bench_main returns
KR_ID="xpsbench-$$"
KR_PINS="/sys/fs/bpf/$KR_ID"
KR_STATS_WAS=""

scenario_setup() {
  bench_need redis-server redis-cli redis-benchmark bpftool python3
  [ "$(id -u)" = 0 ] || die "kernel-redis needs root (cgroups and BPF)"
  [ -d /sys/fs/cgroup/unified ] || die "no cgroup v2 at /sys/fs/cgroup/unified"
  "$ROOT/bin/setup" >/dev/null
  KR_STATS_WAS="$(sysctl -n kernel.bpf_stats_enabled)"
  sysctl -q -w kernel.bpf_stats_enabled=1
  # On any exit, also on failure: detach and unpin, remove the cgroups, restore the sysctl.
  trap 'scenario_stop fast; scenario_stop baseline; bench_cleanup; rm -rf "$WORK"' EXIT
}

scenario_describe() {
  printf '# kernel-redis: redis-server (%s) vs the same with samples/redis-get.xps loaded by bin/xps; kernel %s\n' \
    "$(redis-server --version | awk '{print $3}')" "$(uname -r)"
  printf '# keys %s, value %s bytes, clients %s, requests/run %s, pipeline %s\n' \
    "$KV_KEYS" "$KV_VALUE" "$KV_CLIENTS" "$KV_REQUESTS" "$KV_PIPELINE"
  printf '# get: redis-benchmark -h 127.0.0.1 -p PORT -t get -n %s -c %s -r %s -d %s -P %s --csv\n' \
    "$KV_REQUESTS" "$KV_CLIENTS" "$KV_KEYS" "$KV_VALUE" "$KV_PIPELINE"
}

scenario_tests() { echo get mix; }

kr_xps() { XPS_NO_BUILD="${XPS_NO_BUILD:-0}" "$ROOT/bin/xps" --pin-root "$KR_PINS" --state-root "$WORK/xps-state" "$@"; }

scenario_start() {
  local mode="$1" port cg
  port="$(bench_free_port)"
  cg="/sys/fs/cgroup/unified/$KR_ID-$mode"
  mkdir -p "$cg"
  KR_PORT[$mode]="$port"
  KR_CGROUP[$mode]="$cg"
  if [ "$mode" = fast ]; then
    sed "s/tcp port 6379/tcp port $port/" "$ROOT/samples/redis-get.xps" > "$WORK/redis-get.xps"
    XPSC_NO_BUILD="${XPSC_NO_BUILD:-0}" "$ROOT/bin/xpsc" compile "$WORK/redis-get.xps" --target ebpf -o "$WORK/art" \
      > "$WORK/xpsc.log" 2>&1 || { cat "$WORK/xpsc.log" >&2; die "xpsc compile failed"; }
    kr_xps load redis "$WORK/art/ebpf/redis-get" --cgroup "$cg" > "$WORK/xps-load.log" 2>&1 \
      || { cat "$WORK/xps-load.log" >&2; die "bin/xps load failed"; }
  fi
  # The server joins its cgroup before it creates its listening socket.
  bench_spawn "$mode" "$WORK/redis-$mode.log" sh -c "echo \$\$ > $cg/cgroup.procs && exec redis-server \
    --port $port --bind 127.0.0.1 --save '' --appendonly no --protected-mode no"
  bench_wait_port "$port" 30 "$SPAWNED_PID" || { cat "$WORK/redis-$mode.log" >&2; die "redis ($mode) did not start"; }
}

scenario_prepare() {
  local mode="$1" port="${KR_PORT[$1]}" size gets
  python3 - "$KV_KEYS" "$KV_VALUE" > "$WORK/preload.txt" <<'PY'
import sys
n, d = int(sys.argv[1]), int(sys.argv[2])
for i in range(n):
    print("SET key:%012d %s" % (i, "x" * d))
PY
  redis-cli -h 127.0.0.1 -p "$port" < "$WORK/preload.txt" > /dev/null || die "preload failed ($mode)"
  size="$(redis-cli -h 127.0.0.1 -p "$port" DBSIZE)"
  [ "$size" -ge "$KV_KEYS" ] || die "preload: DBSIZE $size < $KV_KEYS ($mode)"
  redis-cli -h 127.0.0.1 -p "$port" CONFIG RESETSTAT > /dev/null
  redis-cli -h 127.0.0.1 -p "$port" GET key:000000000001 > /dev/null
  gets="$(redis-cli -h 127.0.0.1 -p "$port" INFO commandstats | grep -c '^cmdstat_get:' || true)"
  if [ "$mode" = fast ] && [ "$gets" != 0 ]; then die "fast: a GET of a cached key reached redis (the fast path is not answering)"; fi
  if [ "$mode" = baseline ] && [ "$gets" = 0 ]; then die "baseline: redis did not count the GET"; fi
  log "$mode: preloaded $KV_KEYS keys (DBSIZE $size); GET answered by $([ "$mode" = fast ] && echo the kernel || echo redis)"
}

scenario_stop() {
  local mode="$1"
  bench_stop_mode "$mode"
  if [ "$mode" = fast ] && [ -d "$KR_PINS/redis" ]; then kr_xps unload redis > /dev/null 2>&1 || true; fi
  [ -n "${KR_CGROUP[$mode]:-}" ] && rmdir "${KR_CGROUP[$mode]}" 2>/dev/null || true
  if [ "$mode" = fast ]; then
    rm -rf "$KR_PINS" 2>/dev/null || true
    [ -z "$KR_STATS_WAS" ] || sysctl -q -w kernel.bpf_stats_enabled="$KR_STATS_WAS"
  fi
}

kr_verdict_stats() { # prints "run_time_ns run_cnt" of this context's redis_verdict program (by its pin)
  bpftool -j prog show pinned "$KR_PINS/redis/progs/redis_verdict" 2>/dev/null | python3 -c '
import json, sys
p = json.load(sys.stdin)
print(p.get("run_time_ns", 0), p.get("run_cnt", 0))' 2>/dev/null || echo "0 0"
}

kr_bench() { # PORT TEST N CLIENTS
  timeout 300 redis-benchmark -h 127.0.0.1 -p "$1" -t "$2" -n "$3" -c "$4" -r "$KV_KEYS" -d "$KV_VALUE" -P "$KV_PIPELINE" --csv
}

scenario_load() { # TEST MODE REP OUTFILE
  local test="$1" mode="$2" out="$4" port="${KR_PORT[$2]}" t0 t1 rc=0 before after
  [ "$mode" = fast ] && before="$(kr_verdict_stats)"
  case "$test" in
    get)
      t0="$(date +%s.%N)"
      kr_bench "$port" get "$KV_REQUESTS" "$KV_CLIENTS" > "$out" 2>&1 || rc=$?
      t1="$(date +%s.%N)"
      printf 'wall_seconds=%s\n' "$(python3 -c "print(round($t1-$t0,3))")" >> "$out"
      ;;
    mix)
      local ng=$((KV_REQUESTS * 9 / 10)) ns=$((KV_REQUESTS / 10)) cg=$((KV_CLIENTS * 9 / 10)) cs=$((KV_CLIENTS / 10)) pg ps rg=0 rs=0
      t0="$(date +%s.%N)"
      kr_bench "$port" get "$ng" "$cg" > "$out.get" 2>&1 & pg=$!
      kr_bench "$port" set "$ns" "$cs" > "$out.set" 2>&1 & ps=$!
      wait "$pg" || rg=$?
      wait "$ps" || rs=$?
      t1="$(date +%s.%N)"
      { echo "# GET process (-n $ng -c $cg)"; cat "$out.get"; echo "# SET process (-n $ns -c $cs)"; cat "$out.set"
        printf 'wall_seconds=%s\nrequests=%s\n' "$(python3 -c "print(round($t1-$t0,3))")" "$((ng + ns))"; } > "$out"
      rc=$((rg | rs))
      ;;
    *) die "kernel-redis: no test $test" ;;
  esac
  if [ "$mode" = fast ]; then
    after="$(kr_verdict_stats)"
    python3 -c "
b, a = '$before'.split(), '$after'.split()
runs = int(a[1]) - int(b[1])
print('bpf_ns_per_run=%d' % ((int(a[0]) - int(b[0])) // runs) if runs > 0 else 'bpf_ns_per_run=0')" >> "$out"
  fi
  return "$rc"
}

# Prints: rps p50_ms p99_ms [note]
scenario_parse() { # TEST OUTFILE
  python3 - "$1" "$2" <<'PY'
import csv, io, re, sys
test, path = sys.argv[1], sys.argv[2]
text = open(path).read()
rows = {}
for line in text.splitlines():
    if line.startswith('"') and not line.startswith('"test"'):
        r = next(csv.reader(io.StringIO(line)))
        rows[r[0]] = r  # test, rps, avg, min, p50, p95, p99, max
if "GET" not in rows:
    sys.exit("no GET row")
g = rows["GET"]
ns = re.search(r"bpf_ns_per_run=([0-9]+)", text)
note = f"ns_per_run={ns.group(1)}" if ns else ""
if test == "get":
    print(g[1], g[4], g[6], note)
else:
    wall = float(re.search(r"wall_seconds=([0-9.]+)", text).group(1))
    n = int(re.search(r"requests=([0-9]+)", text).group(1))
    print(f"{n / wall:.2f}", g[4], g[6], (note + "," if note else "") + f"set_p99={rows['SET'][6]}ms")
PY
}
