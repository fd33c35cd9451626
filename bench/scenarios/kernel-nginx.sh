# shellcheck shell=bash
# DESC: wrk against Debian's nginx, with and without samples/http-block.xps in the kernel (POST 405 from the kernel)
#
# Sourced by bench/run (see bench/README.md); needs root (cgroups, BPF). Two nginx (one worker each)
# stay up for the whole run, each in its own cgroup v2 group on its own loopback port, serving a
# static directory. The fast one has samples/http-block.xps (compiled for its port) loaded by
# `bin/xps load` for its cgroup.
#
# Tests:
#   post  wrk -s bench/lib/wrk/post-close.lua: POST /, Content-Length: 0. Baseline: nginx answers
#         405 itself (POST to a static file). Fast: the kernel answers 405 and nginx never sees
#         the request. Both answers close the connection (the kernel's says `Connection: close`,
#         nginx's comes with keep-alive off for POST errors), so wrk reconnects for every request.
#   get   wrk GET / (keep-alive): nginx serves it in both modes — the control (the fast path only
#         runs the 4-byte dispatch and passes).
# Every response is checked (post: all non-2xx; get: none). The verdict program's own cost per run
# comes from kernel.bpf_stats_enabled (run_time_ns / run_cnt of http_verdict), in the note.
#
# Knobs: HTTP_THREADS (2), HTTP_CONNS (32), HTTP_SECONDS (5), as java-http.

HTTP_THREADS="${HTTP_THREADS:-2}"
HTTP_CONNS="${HTTP_CONNS:-32}"
HTTP_SECONDS="${HTTP_SECONDS:-5}"
declare -gA KN_PORT KN_CGROUP
KN_ID="xpsbn$$"
KN_PINS="/sys/fs/bpf/$KN_ID"
KN_STATS_WAS=""

scenario_setup() {
  bench_need nginx wrk curl bpftool python3
  [ "$(id -u)" = 0 ] || die "kernel-nginx needs root (cgroups and BPF)"
  [ -d /sys/fs/cgroup/unified ] || die "no cgroup v2 at /sys/fs/cgroup/unified"
  "$ROOT/bin/setup" >/dev/null
  KN_STATS_WAS="$(sysctl -n kernel.bpf_stats_enabled)"
  sysctl -q -w kernel.bpf_stats_enabled=1
  trap 'scenario_stop fast; scenario_stop baseline; bench_cleanup; rm -rf "$WORK"' EXIT
}

scenario_describe() {
  printf '# kernel-nginx: %s vs the same with samples/http-block.xps loaded by bin/xps; kernel %s; %s\n' \
    "$(nginx -v 2>&1 | sed 's/.*: //')" "$(uname -r)" "$(wrk -v 2>&1 | head -n1)"
  printf '# post: wrk -t%s -c%s -d%ss --latency -s bench/lib/wrk/post-close.lua http://127.0.0.1:PORT/\n' "$HTTP_THREADS" "$HTTP_CONNS" "$HTTP_SECONDS"
  printf '# get:  wrk -t%s -c%s -d%ss --latency http://127.0.0.1:PORT/\n' "$HTTP_THREADS" "$HTTP_CONNS" "$HTTP_SECONDS"
}

scenario_tests() { echo post get; }

kn_xps() { XPS_NO_BUILD="${XPS_NO_BUILD:-0}" "$ROOT/bin/xps" --pin-root "$KN_PINS" --state-root "$WORK/xps-state" "$@"; }

scenario_start() {
  local mode="$1" port cg www="$WORK/www-$1"
  port="$(bench_free_port)"
  cg="/sys/fs/cgroup/unified/$KN_ID-$mode"
  mkdir -p "$cg" "$www"
  KN_PORT[$mode]="$port"; KN_CGROUP[$mode]="$cg"
  echo "hello from nginx" > "$www/index.html"
  cat > "$www/nginx.conf" <<CONF
user root;
worker_processes 1;
daemon off;
pid $www/nginx.pid;
error_log $www/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $www/body;
  proxy_temp_path $www/proxy;
  fastcgi_temp_path $www/fastcgi;
  uwsgi_temp_path $www/uwsgi;
  scgi_temp_path $www/scgi;
  server { listen 127.0.0.1:$port; root $www; }
}
CONF
  if [ "$mode" = fast ]; then
    sed "s/tcp port 80 /tcp port $port /" "$ROOT/samples/http-block.xps" > "$WORK/http-block.xps"
    grep -q "tcp port $port " "$WORK/http-block.xps" || die "could not set the port in http-block.xps"
    XPSC_NO_BUILD="${XPSC_NO_BUILD:-0}" "$ROOT/bin/xpsc" compile "$WORK/http-block.xps" --target ebpf -o "$WORK/art" \
      > "$WORK/xpsc.log" 2>&1 || { cat "$WORK/xpsc.log" >&2; die "xpsc compile failed"; }
    kn_xps load http "$WORK/art/ebpf/http-block" --cgroup "$cg" > "$WORK/xps-load.log" 2>&1 \
      || { cat "$WORK/xps-load.log" >&2; die "bin/xps load failed"; }
  fi
  # nginx joins its cgroup before it creates its listening socket.
  bench_spawn "$mode" "$WORK/nginx-$mode.log" sh -c "echo \$\$ > $cg/cgroup.procs && exec nginx -c $www/nginx.conf -p $www"
  bench_wait_port "$port" 30 "$SPAWNED_PID" || { cat "$WORK/nginx-$mode.log" "$www/error.log" >&2; die "nginx ($mode) did not start"; }
}

scenario_prepare() {
  local mode="$1" port="${KN_PORT[$1]}" answer
  answer="$(curl -s -i -m 5 -X POST -H 'Content-Length: 0' "http://127.0.0.1:$port/")" || die "curl POST failed ($mode)"
  printf '%s' "$answer" | head -n1 | grep -q '^HTTP/1.1 405 ' || die "$mode: POST did not give 405: $answer"
  # nginx names itself in a Server header; the kernel's 405 has none.
  if [ "$mode" = fast ] && printf '%s' "$answer" | grep -qi '^Server:'; then die "fast: POST reached nginx: $answer"; fi
  if [ "$mode" = baseline ] && ! printf '%s' "$answer" | grep -qi '^Server: nginx'; then die "baseline: 405 not from nginx"; fi
  curl -s -m 5 "http://127.0.0.1:$port/" | grep -q "hello from nginx" || die "$mode: GET / not served by nginx"
  log "$mode: POST answered 405 by $([ "$mode" = fast ] && echo the kernel || echo nginx); GET served by nginx"
}

scenario_stop() {
  local mode="$1"
  bench_stop_mode "$mode"
  if [ "$mode" = fast ] && [ -d "$KN_PINS/http" ]; then kn_xps unload http > /dev/null 2>&1 || true; fi
  [ -n "${KN_CGROUP[$mode]:-}" ] && rmdir "${KN_CGROUP[$mode]}" 2>/dev/null || true
  if [ "$mode" = fast ]; then
    rm -rf "$KN_PINS" 2>/dev/null || true
    [ -z "$KN_STATS_WAS" ] || sysctl -q -w kernel.bpf_stats_enabled="$KN_STATS_WAS"
  fi
}

kn_verdict_stats() { # "run_time_ns run_cnt" of this context's http_verdict program (by its pin)
  bpftool -j prog show pinned "$KN_PINS/http/progs/http_verdict" 2>/dev/null | python3 -c '
import json, sys
p = json.load(sys.stdin)
print(p.get("run_time_ns", 0), p.get("run_cnt", 0))' 2>/dev/null || echo "0 0"
}

scenario_load() { # TEST MODE REP OUTFILE
  local test="$1" mode="$2" out="$4" port="${KN_PORT[$2]}" before after rc=0
  local common=(-t"$HTTP_THREADS" -c"$HTTP_CONNS" -d"${HTTP_SECONDS}s" --latency)
  [ "$mode" = fast ] && before="$(kn_verdict_stats)"
  case "$test" in
    post) timeout $((HTTP_SECONDS + 60)) wrk "${common[@]}" -s "$BENCH/lib/wrk/post-close.lua" "http://127.0.0.1:$port/" > "$out" 2>&1 || rc=$? ;;
    get)  timeout $((HTTP_SECONDS + 60)) wrk "${common[@]}" "http://127.0.0.1:$port/" > "$out" 2>&1 || rc=$? ;;
    *) die "kernel-nginx: no test $test" ;;
  esac
  if [ "$mode" = fast ]; then
    after="$(kn_verdict_stats)"
    python3 -c "
b, a = '$before'.split(), '$after'.split()
runs = int(a[1]) - int(b[1])
print('bpf_ns_per_run=%d' % ((int(a[0]) - int(b[0])) // runs) if runs > 0 else 'bpf_ns_per_run=0')" >> "$out"
  fi
  return "$rc"
}

scenario_parse() { # TEST OUTFILE — wrk's numbers, plus the kernel's ns per verdict run
  local line ns
  line="$(python3 "$BENCH/lib/wrk/parse.py" "$1" "$2")" || return 1
  ns="$(grep -o 'bpf_ns_per_run=[0-9]*' "$2" | sed 's/bpf_//')" || true
  case "$line" in
    *" ") echo "$line${ns}" ;;
    *) if [ -n "$ns" ]; then echo "$line,$ns" | sed 's/ ,/ /'; else echo "$line"; fi ;;
  esac
}
