# shellcheck shell=bash
# DESC: redis-benchmark against bin/xps-kv (runtime-stack): GET-only, and 90/10 GET/SET — fast path vs --no-fast-path
#
# Sourced by bench/run (see bench/README.md). Two servers stay up for the whole run, one per mode,
# on free loopback ports: `bin/xps-kv --port P --no-fast-path` (baseline) and `bin/xps-kv --port Q`
# (fast). Only one of them is under load at a time.
#
# Tests:
#   get  redis-benchmark -t get: every key exists (preloaded), so the fast path answers every GET.
#   mix  90/10 GET/SET. redis-benchmark runs one command type per test, so two redis-benchmark
#        processes run at the same time against the same server: `-t get` with 9/10 of the clients
#        and requests, `-t set` with 1/10. Throughput = all requests / wall time until BOTH have
#        finished (a mode whose SETs lag behind pays for it); p50/p99 are the GET process's
#        (the SET process's percentiles are in the raw output, and in the note column as set_p99).
#
# Knobs (environment):
#   KV_KEYS=10000       keyspace (-r); keys key:000000000000 .. are preloaded with KV_VALUE-byte values
#   KV_VALUE=16         value size (-d)
#   KV_CLIENTS=50       connections (-c)
#   KV_REQUESTS=300000  requests per run (-n), split 9:1 in the mix
#   KV_PIPELINE=1       -P
#   KV_JAVA_OPTS        extra JVM options for both servers (XPS_JAVA_OPTS)
#   KV_SERVER_CPUS, KV_CLIENT_CPUS   optional taskset -c lists (e.g. 1 and 0) to pin the servers and
#                       redis-benchmark to separate CPUs (default: no pinning)

KV_KEYS="${KV_KEYS:-10000}"
KV_VALUE="${KV_VALUE:-16}"
KV_CLIENTS="${KV_CLIENTS:-50}"
KV_REQUESTS="${KV_REQUESTS:-300000}"
KV_PIPELINE="${KV_PIPELINE:-1}"
KV_SERVER_PIN=(); [ -z "${KV_SERVER_CPUS:-}" ] || KV_SERVER_PIN=(taskset -c "$KV_SERVER_CPUS")
KV_CLIENT_PIN=(); [ -z "${KV_CLIENT_CPUS:-}" ] || KV_CLIENT_PIN=(taskset -c "$KV_CLIENT_CPUS")
declare -A KV_PORT

# shellcheck source=../lib/java-stack.sh
. "$BENCH/lib/java-stack.sh"

scenario_setup() {
  bench_need redis-benchmark redis-cli
  [ "$KV_CLIENTS" -ge 10 ] || die "KV_CLIENTS must be >= 10 (the mix splits it 9:1)"
  java_stack_setup
}

scenario_describe() {
  printf '# java-kv: bin/xps-kv (samples/redis-get.xps) vs bin/xps-kv --no-fast-path; %s\n' "$(redis-benchmark --version)"
  printf '# keys %s, value %s bytes, clients %s, requests/run %s, pipeline %s, server cpus %s, client cpus %s\n' \
    "$KV_KEYS" "$KV_VALUE" "$KV_CLIENTS" "$KV_REQUESTS" "$KV_PIPELINE" "${KV_SERVER_CPUS:-any}" "${KV_CLIENT_CPUS:-any}"
  printf '# get: redis-benchmark -h 127.0.0.1 -p PORT -t get -n %s -c %s -r %s -d %s -P %s --csv\n' \
    "$KV_REQUESTS" "$KV_CLIENTS" "$KV_KEYS" "$KV_VALUE" "$KV_PIPELINE"
  printf '# mix: concurrently  -t get -n %s -c %s  and  -t set -n %s -c %s  (same -r -d -P --csv)\n' \
    "$((KV_REQUESTS * 9 / 10))" "$((KV_CLIENTS * 9 / 10))" "$((KV_REQUESTS / 10))" "$((KV_CLIENTS / 10))"
}

scenario_tests() { echo get mix; }

scenario_start() {
  local mode="$1" port flag=()
  port="$(bench_free_port)"
  [ "$mode" = baseline ] && flag=(--no-fast-path)
  XPS_STACK_WORK="$WORK/stack" XPS_JAVA_OPTS="${KV_JAVA_OPTS:-}" \
    bench_spawn "$mode" "$WORK/server-$mode.log" ${KV_SERVER_PIN[@]+"${KV_SERVER_PIN[@]}"} "$ROOT/bin/xps-kv" --port "$port" "${flag[@]}"
  bench_wait_port "$port" 120 "$SPAWNED_PID" || { cat "$WORK/server-$mode.log" >&2; die "xps-kv ($mode) did not start"; }
  KV_PORT[$mode]="$port"
  bench_raw "server $mode (pid $SPAWNED_PID, port $port)" "$WORK/server-$mode.log"
}

# Preload every key redis-benchmark's -r draws (key:%012d, 0..KV_KEYS-1) with a KV_VALUE-byte value,
# through the server itself (the SET write handler / KvService puts it in the cache map).
scenario_prepare() {
  local mode="$1" port="${KV_PORT[$1]}"
  python3 - "$KV_KEYS" "$KV_VALUE" > "$WORK/preload.resp" <<'PY'
import sys
n, d = int(sys.argv[1]), int(sys.argv[2])
v = "x" * d
out = sys.stdout
for i in range(n):
    k = "key:%012d" % i
    out.write(f"*3\r\n$3\r\nSET\r\n${len(k)}\r\n{k}\r\n${d}\r\n{v}\r\n")
PY
  redis-cli -h 127.0.0.1 -p "$port" --pipe < "$WORK/preload.resp" > "$WORK/preload.out" 2>&1 \
    || { cat "$WORK/preload.out" >&2; die "preload failed ($mode)"; }
  local size; size="$(redis-cli -h 127.0.0.1 -p "$port" DBSIZE)"
  [ "$size" -ge "$KV_KEYS" ] || die "preload: DBSIZE $size < $KV_KEYS ($mode)"
  log "$mode: preloaded $KV_KEYS keys (DBSIZE $size)"
}

kv_bench() { # PORT TEST N CLIENTS
  timeout 300 ${KV_CLIENT_PIN[@]+"${KV_CLIENT_PIN[@]}"} redis-benchmark -h 127.0.0.1 -p "$1" -t "$2" -n "$3" -c "$4" -r "$KV_KEYS" -d "$KV_VALUE" \
    -P "$KV_PIPELINE" --csv
}

scenario_load() { # TEST MODE REP OUTFILE
  local test="$1" mode="$2" out="$4" port="${KV_PORT[$2]}" t0 t1 rc=0
  case "$test" in
    get)
      t0="$(date +%s.%N)"
      kv_bench "$port" get "$KV_REQUESTS" "$KV_CLIENTS" > "$out" 2>&1 || rc=$?
      t1="$(date +%s.%N)"
      printf 'wall_seconds=%s\n' "$(python3 -c "print(round($t1-$t0,3))")" >> "$out"
      ;;
    mix)
      local ng=$((KV_REQUESTS * 9 / 10)) ns=$((KV_REQUESTS / 10)) cg=$((KV_CLIENTS * 9 / 10)) cs=$((KV_CLIENTS / 10)) pg ps rg=0 rs=0
      t0="$(date +%s.%N)"
      kv_bench "$port" get "$ng" "$cg" > "$out.get" 2>&1 & pg=$!
      kv_bench "$port" set "$ns" "$cs" > "$out.set" 2>&1 & ps=$!
      wait "$pg" || rg=$?
      wait "$ps" || rs=$?
      t1="$(date +%s.%N)"
      { echo "# GET process (-n $ng -c $cg)"; cat "$out.get"; echo "# SET process (-n $ns -c $cs)"; cat "$out.set"
        printf 'wall_seconds=%s\nrequests=%s\n' "$(python3 -c "print(round($t1-$t0,3))")" "$((ng + ns))"; } > "$out"
      rc=$((rg | rs))
      ;;
    *) die "java-kv: no test $test" ;;
  esac
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
if test == "get":
    print(g[1], g[4], g[6])
else:
    wall = float(re.search(r"wall_seconds=([0-9.]+)", text).group(1))
    n = int(re.search(r"requests=([0-9]+)", text).group(1))
    s = rows["SET"]
    print(f"{n / wall:.2f}", g[4], g[6], f"set_p99={s[6]}ms,get_rps={g[1]},set_rps={s[1]}")
PY
}
