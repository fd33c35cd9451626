# shellcheck shell=bash
# DESC: wrk against bin/xps-http (runtime-stack): POST (405 from the fast path) and GET (control) — fast path vs --no-fast-path
#
# Sourced by bench/run (see bench/README.md). Two servers stay up for the whole run, one per mode:
# `bin/xps-http --port P --no-fast-path` (baseline) and `bin/xps-http --port Q` (fast).
#
# Tests:
#   post  wrk -s bench/lib/wrk/post.lua: POST /login with Content-Length: 0. Fast: the handler
#         answers 405 on the I/O thread. Baseline: HttpService answers the very same 405 (same
#         bytes, same `Connection: close`). Both answers close the connection, so wrk reconnects
#         for every request: this measures connect + request + 405 + close.
#   get   wrk GET / (keep-alive): passes to the service in both modes — the control. The fast path
#         only adds running the dispatch (offset 0, 4 bytes) before passing; a ratio far from 1
#         here is the noise floor of the machine.
#
# Every response is checked: post must give only non-2xx (405) answers, get none; socket errors
# are put in the note column.
#
# Knobs (environment):
#   HTTP_THREADS=2      wrk -t
#   HTTP_CONNS=32       wrk -c
#   HTTP_SECONDS=5      wrk -d (each run is bounded by time: wrk has no request count)
#   HTTP_JAVA_OPTS      extra JVM options for both servers (XPS_JAVA_OPTS)

HTTP_THREADS="${HTTP_THREADS:-2}"
HTTP_CONNS="${HTTP_CONNS:-32}"
HTTP_SECONDS="${HTTP_SECONDS:-5}"
declare -A HTTP_PORT

# shellcheck source=../lib/java-stack.sh
. "$BENCH/lib/java-stack.sh"

scenario_setup() {
  bench_need wrk curl
  java_stack_setup
}

scenario_describe() {
  printf '# java-http: bin/xps-http (samples/http-block.xps) vs bin/xps-http --no-fast-path; %s\n' "$(wrk -v 2>&1 | head -n1)"
  printf '# post: wrk -t%s -c%s -d%ss --latency -s bench/lib/wrk/post.lua http://127.0.0.1:PORT/login\n' "$HTTP_THREADS" "$HTTP_CONNS" "$HTTP_SECONDS"
  printf '# get:  wrk -t%s -c%s -d%ss --latency http://127.0.0.1:PORT/\n' "$HTTP_THREADS" "$HTTP_CONNS" "$HTTP_SECONDS"
}

scenario_tests() { echo post get; }

scenario_start() {
  local mode="$1" port flag=()
  port="$(bench_free_port)"
  [ "$mode" = baseline ] && flag=(--no-fast-path)
  XPS_STACK_WORK="$WORK/stack" XPS_JAVA_OPTS="${HTTP_JAVA_OPTS:-}" \
    bench_spawn "$mode" "$WORK/server-$mode.log" "$ROOT/bin/xps-http" --port "$port" "${flag[@]}"
  bench_wait_port "$port" 120 "$SPAWNED_PID" || { cat "$WORK/server-$mode.log" >&2; die "xps-http ($mode) did not start"; }
  HTTP_PORT[$mode]="$port"
  bench_raw "server $mode (pid $SPAWNED_PID, port $port)" "$WORK/server-$mode.log"
}

# Both modes must give the same bytes for POST: check once per server before measuring.
scenario_prepare() {
  local mode="$1" port="${HTTP_PORT[$1]}"
  curl -s -i -m 5 -X POST -H 'Content-Length: 0' "http://127.0.0.1:$port/login" > "$WORK/post-$mode.txt" || die "curl POST failed ($mode)"
  head -n1 "$WORK/post-$mode.txt" | grep -q '^HTTP/1.1 405 ' || die "$mode: POST did not give 405"
  if [ "$mode" = fast ] && [ -f "$WORK/post-baseline.txt" ]; then
    cmp -s "$WORK/post-baseline.txt" "$WORK/post-fast.txt" || die "POST answers differ between baseline and fast"
    log "POST answer identical in both modes: $(head -n1 "$WORK/post-fast.txt" | tr -d '\r')"
  fi
}

scenario_load() { # TEST MODE REP OUTFILE
  local test="$1" port="${HTTP_PORT[$2]}" out="$4"
  local common=(-t"$HTTP_THREADS" -c"$HTTP_CONNS" -d"${HTTP_SECONDS}s" --latency)
  case "$test" in
    post) timeout $((HTTP_SECONDS + 60)) wrk "${common[@]}" -s "$BENCH/lib/wrk/post.lua" "http://127.0.0.1:$port/login" > "$out" 2>&1 ;;
    get)  timeout $((HTTP_SECONDS + 60)) wrk "${common[@]}" "http://127.0.0.1:$port/" > "$out" 2>&1 ;;
    *) die "java-http: no test $test" ;;
  esac
}

# Prints: rps p50_ms p99_ms [note]
scenario_parse() { python3 "$BENCH/lib/wrk/parse.py" "$1" "$2"; } # TEST OUTFILE
