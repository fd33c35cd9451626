# shellcheck shell=bash
# DESC: memcached UDP GET, with and without the XDP fast path (samples/memcached-udp.xps via bin/xps)
#
# Sourced by bench/run (see bench/README.md); needs root (namespaces, BPF). Two memcacheds stay up
# for the whole run, each in its own network namespace behind its own veth pair (XDP on loopback is
# generic mode only; a veth end takes native XDP). The fast one has samples/memcached-udp.xps loaded
# by `bin/xps load --interface` on its namespace's end: a GET whose key is in the kernel's map is
# answered by XDP_TX and never reaches memcached. Both memcacheds hold every key; the fast one's map
# holds them too (filled with one `bpftool batch`), so every GET hits in both modes.
#
# Load: bench/lib/udpload (C, built here with gcc): MC_CLIENTS sockets in the root namespace, one
# request in flight each, MC_REQUESTS requests per run; a request unanswered after 200 ms counts as
# lost (reported in the note; the loss must be 0 for a valid run). The XDP program's own cost per run
# comes from kernel.bpf_stats_enabled (run_time_ns / run_cnt of memcached_xdp).
#
# MC_PROCS udpload processes run at once (default 2, one per core: a single client process is the
# bottleneck before either server is), each with its share of the requests and clients; throughput is
# all requests over the wall time until the last process finishes, p50/p99 are the medians over the
# processes' own percentiles, hits and lost are summed.
#
# memcached runs MC_THREADS worker threads (default 1: on this 2-core machine, with two client processes,
# memcached's default of 4 threads is slower and loses requests; 1 was its best, see docs/benchmarks.md).
#
# Knobs: MC_KEYS (1000), MC_VALUE (16), MC_CLIENTS (32), MC_REQUESTS (300000), MC_PROCS (2), MC_THREADS (1).

MC_KEYS="${MC_KEYS:-1000}"
MC_VALUE="${MC_VALUE:-16}"
MC_CLIENTS="${MC_CLIENTS:-32}"
MC_REQUESTS="${MC_REQUESTS:-300000}"
MC_PROCS="${MC_PROCS:-2}"
MC_THREADS="${MC_THREADS:-1}"
declare -gA MC_NS MC_IP MC_HOSTIF
MC_ID="xpsbm$$"
MC_PINS="/sys/fs/bpf/$MC_ID"
MC_STATS_WAS=""

scenario_setup() {
  bench_need memcached gcc ip bpftool python3
  [ "$(id -u)" = 0 ] || die "kernel-memcached needs root (network namespaces and BPF)"
  "$ROOT/bin/setup" >/dev/null
  gcc -O2 -Wall -o "$WORK/udpload" "$BENCH/lib/udpload/udpload.c" || die "building udpload failed"
  MC_STATS_WAS="$(sysctl -n kernel.bpf_stats_enabled)"
  sysctl -q -w kernel.bpf_stats_enabled=1
  trap 'scenario_stop fast; scenario_stop baseline; bench_cleanup; rm -rf "$WORK"' EXIT
}

scenario_describe() {
  printf '# kernel-memcached: memcached (%s) over UDP vs the same with samples/memcached-udp.xps in XDP; kernel %s\n' \
    "$(memcached -V | awk '{print $2}')" "$(uname -r)"
  printf '# keys %s, value %s bytes, clients %s, requests/run %s, memcached -t %s; each memcached in its own netns behind a veth pair\n' \
    "$MC_KEYS" "$MC_VALUE" "$MC_CLIENTS" "$MC_REQUESTS" "$MC_THREADS"
  printf '# get: %s x udpload NS_IP 11211 %s %s %s at once  (bench/lib/udpload/udpload.c)\n' "$MC_PROCS" \
    "$((MC_REQUESTS / MC_PROCS))" "$((MC_CLIENTS / MC_PROCS))" "$MC_KEYS"
}

scenario_tests() { echo get; }

mc_xps() { XPS_NO_BUILD="${XPS_NO_BUILD:-0}" "$ROOT/bin/xps" --pin-root "$MC_PINS" --state-root "$WORK/xps-state" "$@"; }

scenario_start() {
  local mode="$1" ns="$MC_ID-$1" net hostif nsif
  net=$([ "$mode" = fast ] && echo 2 || echo 1)
  hostif="${MC_ID}${mode:0:1}"
  nsif="${MC_ID}${mode:0:1}p"
  MC_NS[$mode]="$ns"; MC_IP[$mode]="10.252.$net.2"; MC_HOSTIF[$mode]="$hostif"
  ip netns add "$ns"
  ip link add "$hostif" type veth peer name "$nsif" netns "$ns"
  ip addr add "10.252.$net.1/24" dev "$hostif"
  ip link set "$hostif" up
  ip -n "$ns" addr add "10.252.$net.2/24" dev "$nsif"
  ip -n "$ns" link set "$nsif" up
  ip -n "$ns" link set lo up
  bench_spawn "$mode" "$WORK/memcached-$mode.log" ip netns exec "$ns" memcached -u root -l "10.252.$net.2" \
    -p 11211 -U 11211 -m 64 -t "$MC_THREADS"
  mc_wait "$mode" || { cat "$WORK/memcached-$mode.log" >&2; die "memcached ($mode) did not start"; }
  if [ "$mode" = fast ]; then
    XPSC_NO_BUILD="${XPSC_NO_BUILD:-0}" "$ROOT/bin/xpsc" compile "$ROOT/samples/memcached-udp.xps" --target ebpf \
      -o "$WORK/art" > "$WORK/xpsc.log" 2>&1 || { cat "$WORK/xpsc.log" >&2; die "xpsc compile failed"; }
    mc_xps load mc "$WORK/art/ebpf/memcached-udp" --interface "$nsif" --netns "$ns" > "$WORK/xps-load.log" 2>&1 \
      || { cat "$WORK/xps-load.log" >&2; die "bin/xps load failed"; }
  fi
}

mc_wait() { # MODE — memcached answers "stats" over TCP
  local i
  for i in $(seq 1 100); do
    if ip netns exec "${MC_NS[$1]}" python3 -c "
import socket, sys
s = socket.create_connection(('${MC_IP[$1]}', 11211), timeout=1)
s.sendall(b'version\r\n'); sys.exit(0 if s.recv(100).startswith(b'VERSION') else 1)" 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}

scenario_prepare() {
  local mode="$1"
  # memcached: every key, over TCP (both modes: a fast-path miss must still find the key).
  ip netns exec "${MC_NS[$mode]}" python3 - "${MC_IP[$mode]}" "$MC_KEYS" "$MC_VALUE" <<'PY' || die "preload failed ($mode)"
import socket, sys
ip, n, d = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.create_connection((ip, 11211))
f = s.makefile("rb")
for i in range(n):
    s.sendall(b"set key:%012d 0 0 %d\r\n%s\r\n" % (i, d, b"x" * d))
    if f.readline() != b"STORED\r\n":
        sys.exit("memcached did not store key %d" % i)
PY
  if [ "$mode" = fast ]; then
    mc_fill_map
    # A GET of a cached key must be answered by XDP: memcached's cmd_get stays where it was.
    local before after
    before="$(mc_stat fast cmd_get)"
    "$WORK/udpload" "${MC_IP[fast]}" 11211 1000 4 "$MC_KEYS" > "$WORK/check.csv" 2>&1 || die "udpload check failed"
    after="$(mc_stat fast cmd_get)"
    [ "$before" = "$after" ] || die "fast: GETs reached memcached ($before -> $after); the XDP fast path is not answering"
    grep -q '"1000","0","0"' "$WORK/check.csv" || { cat "$WORK/check.csv" >&2; die "fast: not every check GET hit"; }
  fi
  log "$mode: $MC_KEYS keys in memcached$([ "$mode" = fast ] && echo ' and in the XDP map; check GETs answered by XDP')"
}

mc_stat() { # MODE NAME
  ip netns exec "${MC_NS[$1]}" python3 -c "
import socket
s = socket.create_connection(('${MC_IP[$1]}', 11211)); s.sendall(b'stats\r\n'); buf = b''
while not buf.endswith(b'END\r\n'): buf += s.recv(65536)
print(next(l.split()[2].decode() for l in buf.splitlines() if l.startswith(b'STAT $2 ')))"
}

mc_fill_map() { # every key into the fast path's map 'mc', in its canonical layout, with one bpftool batch
  local pin="$MC_PINS/mc/maps/mc"
  [ -e "$pin" ] || pin="$(find "$MC_PINS" -name mc -path '*maps*' | head -1)"
  [ -n "$pin" ] && [ -e "$pin" ] || die "cannot find the pinned map 'mc' under $MC_PINS"
  python3 - "$pin" "$MC_KEYS" "$MC_VALUE" > "$WORK/fill.batch" <<'PY'
import json, subprocess, sys
pin, n, d = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
info = json.loads(subprocess.check_output(["bpftool", "-j", "map", "show", "pinned", pin]))
ks, vs = info["bytes_key"], info["bytes_value"]
def blob(data, size):  # struct { __u32 len; __u8 data[N]; } little-endian length, zero padding
    b = len(data).to_bytes(4, "little") + data
    return " ".join("%02x" % x for x in b + bytes(size - len(b)))
for i in range(n):
    print(f"map update pinned {pin} key hex {blob(b'key:%012d' % i, ks)} value hex {blob(b'x' * d, vs)}")
PY
  bpftool batch file "$WORK/fill.batch" > /dev/null || die "filling the map failed"
  local got
  got="$(mc_xps map get mc mc key:000000000001 2>&1)" || die "xps map get failed: $got"
  case "$got" in *xxxx*) ;; *) die "map fill check: $got" ;; esac
}

scenario_stop() {
  local mode="$1"
  bench_stop_mode "$mode"
  if [ "$mode" = fast ] && [ -d "$MC_PINS/mc" ]; then mc_xps unload mc > /dev/null 2>&1 || true; fi
  [ -n "${MC_HOSTIF[$mode]:-}" ] && ip link del "${MC_HOSTIF[$mode]}" 2>/dev/null || true
  [ -n "${MC_NS[$mode]:-}" ] && ip netns del "${MC_NS[$mode]}" 2>/dev/null || true
  if [ "$mode" = fast ]; then
    rm -rf "$MC_PINS" 2>/dev/null || true
    [ -z "$MC_STATS_WAS" ] || sysctl -q -w kernel.bpf_stats_enabled="$MC_STATS_WAS"
  fi
}

mc_xdp_stats() { # "run_time_ns run_cnt" of the XDP program attached to the fast namespace's veth end
  local id
  id="$(ip -n "${MC_NS[fast]}" -j -d link show dev "${MC_HOSTIF[fast]}p" | python3 -c '
import json, sys
link = json.load(sys.stdin)[0]
print(link.get("xdp", {}).get("prog", {}).get("id", 0))')"
  bpftool -j prog show id "$id" 2>/dev/null | python3 -c '
import json, sys
p = json.load(sys.stdin)
print(p.get("run_time_ns", 0), p.get("run_cnt", 0))' 2>/dev/null || echo "0 0"
}

mc_udpload() { # IP — MC_PROCS udpload processes at once, each with its share of requests and clients
  local i pids=() rc=0 t0 t1
  t0="$(date +%s.%N)"
  for i in $(seq 1 "$MC_PROCS"); do
    timeout 300 "$WORK/udpload" "$1" 11211 "$((MC_REQUESTS / MC_PROCS))" "$((MC_CLIENTS / MC_PROCS))" "$MC_KEYS" \
      > "$WORK/udpload.$i" 2>&1 & pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i" || rc=1; done
  t1="$(date +%s.%N)"
  for i in $(seq 1 "$MC_PROCS"); do echo "# udpload process $i"; cat "$WORK/udpload.$i"; done
  printf 'wall_seconds=%s\nrequests=%s\n' "$(python3 -c "print(round($t1-$t0,3))")" "$((MC_REQUESTS / MC_PROCS * MC_PROCS))"
  return "$rc"
}

scenario_load() { # TEST MODE REP OUTFILE
  local mode="$2" out="$4" before after rc=0
  [ "$mode" = fast ] && before="$(mc_xdp_stats)"
  mc_udpload "${MC_IP[$mode]}" > "$out" 2>&1 || rc=$?
  if [ "$mode" = fast ]; then
    after="$(mc_xdp_stats)"
    python3 -c "
b, a = '$before'.split(), '$after'.split()
runs = int(a[1]) - int(b[1])
print('bpf_ns_per_run=%d' % ((int(a[0]) - int(b[0])) // runs) if runs > 0 else 'bpf_ns_per_run=0')" >> "$out"
  fi
  return "$rc"
}

scenario_parse() { # TEST OUTFILE — rps p50_ms p99_ms note
  python3 - "$2" <<'PY'
import csv, io, re, statistics, sys
text = open(sys.argv[1]).read()
rows = [r for r in csv.reader(io.StringIO(text)) if r and r[0] == "GET"]
if not rows:
    sys.exit("no GET row")
wall = float(re.search(r"wall_seconds=([0-9.]+)", text).group(1))
n = int(re.search(r"requests=([0-9]+)", text).group(1))
hits = sum(int(r[4]) for r in rows)
lost = sum(int(r[6]) for r in rows)
ns = re.search(r"bpf_ns_per_run=([0-9]+)", text)
note = f"hits={hits},lost={lost}" + (f",ns_per_run={ns.group(1)}" if ns else "")
print(f"{(n - lost) / wall:.2f}", f"{statistics.median(float(r[2]) for r in rows):.3f}",
      f"{statistics.median(float(r[3]) for r in rows):.3f}", note)
PY
}
