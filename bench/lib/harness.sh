# shellcheck shell=bash
# The harness behind bench/run. A scenario is one file, bench/scenarios/<name>.sh, sourced by the
# harness; the interface it implements is described in bench/README.md ("Adding a scenario") and in
# bench/scenarios/TEMPLATE.sh.

REPS=5
OUT_DIR=""
TAG=""
PLOT=1
PIDS=()          # every process the harness or a scenario started (bench_spawn), killed on exit
PID_MODE=()      # the mode each pid belongs to ("" for shared helpers)

log() { printf '[bench %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

# bench_spawn MODE LOGFILE CMD... — start CMD in the background (own process group), remember its
# pid for cleanup; sets SPAWNED_PID.
bench_spawn() {
  local mode="$1" logfile="$2"; shift 2
  setsid "$@" >"$logfile" 2>&1 < /dev/null &
  SPAWNED_PID=$!
  PIDS+=("$SPAWNED_PID"); PID_MODE+=("$mode")
}

# bench_kill_pid PID — TERM the process group PID leads (setsid made it a leader), wait up to
# 10 s, then KILL.
bench_kill_pid() {
  local pid="$1" i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

# bench_stop_mode MODE — kill every process spawned for MODE (the default scenario_stop).
bench_stop_mode() {
  local i
  for i in "${!PIDS[@]}"; do
    if [ "${PID_MODE[$i]}" = "$1" ]; then
      bench_kill_pid "${PIDS[$i]}"
      unset 'PIDS[i]' 'PID_MODE[i]'
    fi
  done
}

# bench_mode_cpu MODE — CPU seconds (user + system, all threads) used so far by MODE's spawned
# processes (the server JVMs: bin/xps-kv execs java, so the spawned pid is the JVM).
bench_mode_cpu() {
  local i ticks=0 stat rest
  for i in "${!PIDS[@]}"; do
    [ "${PID_MODE[$i]}" = "$1" ] || continue
    stat="$(cat "/proc/${PIDS[$i]}/stat" 2>/dev/null)" || continue
    rest="${stat##*) }"                      # fields from 3 (state) on; comm may hold spaces
    set -- "$1" $rest
    ticks=$((ticks + ${13} + ${14}))        # utime, stime: fields 14 and 15 of the stat line
  done
  python3 -c "print($ticks / $(getconf CLK_TCK))"
}

bench_cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do bench_kill_pid "$pid"; done
  PIDS=(); PID_MODE=()
}

# bench_wait_port PORT SECONDS PID — wait until something accepts on 127.0.0.1:PORT, failing early
# if PID died.
bench_wait_port() {
  local port="$1" secs="$2" pid="$3" i
  for i in $(seq 1 $((secs * 10))); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# bench_free_port — a TCP port nothing listens on (from the kernel, via python3).
bench_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

bench_need() {
  local t
  for t in "$@"; do command -v "$t" >/dev/null 2>&1 || die "needs '$t' on PATH (see bench/README.md, Requirements)"; done
}

# Raw output of every run goes to the results file, framed so a reader can find it.
bench_raw() { # TITLE FILE
  { printf '\n----- %s -----\n' "$1"; cat "$2"; } >> "$RESULTS_TXT"
}

bench_list() {
  local f
  for f in "$BENCH"/scenarios/*.sh; do
    case "$(basename "$f")" in TEMPLATE.sh) continue ;; esac
    printf '%-14s %s\n' "$(basename "$f" .sh)" "$(sed -n 's/^# *DESC: *//p' "$f" | head -n1)"
  done
}

bench_main() {
  local scenario="" argv="$*"
  while [ $# -gt 0 ]; do
    case "$1" in
      --reps) REPS="$2"; shift 2 ;;
      --out) OUT_DIR="$2"; shift 2 ;;
      --no-plot) PLOT=0; shift ;;
      --tag) TAG="$2"; shift 2 ;;
      --list) bench_list; exit 0 ;;
      -h|--help) sed -n '2,16p' "$BENCH/run" | sed 's/^# \{0,1\}//'; exit 0 ;;
      -*) die "unknown option $1" ;;
      *) [ -z "$scenario" ] || die "one scenario at a time"; scenario="$1"; shift ;;
    esac
  done
  [ -n "$scenario" ] || { bench_list; die "usage: bench/run SCENARIO [--reps N] (scenarios above)"; }
  local file="$BENCH/scenarios/$scenario.sh"
  [ -f "$file" ] && [ "$scenario" != TEMPLATE ] || { bench_list >&2; die "no scenario '$scenario'"; }
  [[ "$REPS" =~ ^[1-9][0-9]*$ ]] || die "--reps needs a positive number"
  bench_need python3

  SCENARIO="$scenario"
  OUT_DIR="${OUT_DIR:-$BENCH/results}"
  mkdir -p "$OUT_DIR"
  local stamp; stamp="$(date -u +%Y-%m-%d)"
  RESULTS_TXT="$OUT_DIR/$stamp-$scenario${TAG:+-$TAG}.txt"
  RESULTS_TSV="$OUT_DIR/$stamp-$scenario${TAG:+-$TAG}.tsv"
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/xps-bench.XXXXXX")"
  trap 'bench_cleanup; rm -rf "$WORK"' EXIT
  trap 'log "interrupted"; exit 130' INT TERM

  # Defaults a scenario may override.
  SCENARIO_RESIDENT=1        # 1: both servers up for the whole run; 0: start/stop around each run
  scenario_stop() { bench_stop_mode "$1"; }
  scenario_prepare() { :; }
  # shellcheck source=/dev/null
  . "$file"
  for fn in scenario_setup scenario_start scenario_tests scenario_load scenario_parse; do
    declare -F "$fn" >/dev/null || die "scenario $scenario does not define $fn"
  done

  {
    printf '# bench/run %s  (%s UTC)\n' "$scenario" "$(date -u '+%Y-%m-%d %H:%M:%S')"
    printf '# host: %s; %s CPUs; %s\n' "$(uname -srm)" "$(nproc)" "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
    printf '# reps: %s per mode, interleaved baseline/fast\n' "$REPS"
    printf '# command: bench/run %s\n' "$argv"
    env | grep -E '^(KV_|HTTP_|BENCH_)' | sed 's/^/# env: /' || true
  } > "$RESULTS_TXT"
  printf 'scenario\ttest\tmode\trep\trps\tp50_ms\tp99_ms\tsrv_cpu_us_per_req\tsrv_cores\tnote\n' > "$RESULTS_TSV"

  scenario_setup
  scenario_describe >> "$RESULTS_TXT" 2>/dev/null || true

  local modes=(baseline fast) mode test rep
  if [ "$SCENARIO_RESIDENT" = 1 ]; then
    for mode in "${modes[@]}"; do
      log "starting $mode server"
      scenario_start "$mode"
      scenario_prepare "$mode"
    done
  fi
  for test in $(scenario_tests); do
    # Warm-up: one unrecorded run per mode (JIT, connection pools, page cache).
    for mode in "${modes[@]}"; do
      [ "$SCENARIO_RESIDENT" = 1 ] || { scenario_start "$mode"; scenario_prepare "$mode"; }
      log "$test: warm-up $mode"
      scenario_load "$test" "$mode" warmup "$WORK/warmup.out" || die "$test/$mode warm-up failed (raw: $WORK/warmup.out)"
      bench_raw "$test $mode warm-up (not recorded)" "$WORK/warmup.out"
      [ "$SCENARIO_RESIDENT" = 1 ] || scenario_stop "$mode"
    done
    for rep in $(seq 1 "$REPS"); do
      for mode in "${modes[@]}"; do
        [ "$SCENARIO_RESIDENT" = 1 ] || { scenario_start "$mode"; scenario_prepare "$mode"; }
        local out="$WORK/$test-$mode-$rep.out" line c0 c1 w0 w1 cpu_us cores
        c0="$(bench_mode_cpu "$mode")"; w0="$(date +%s.%N)"
        scenario_load "$test" "$mode" "$rep" "$out" || die "$test/$mode run $rep failed (raw output in $out)"
        w1="$(date +%s.%N)"; c1="$(bench_mode_cpu "$mode")"
        printf 'loadavg after run: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)" >> "$out"
        bench_raw "$test $mode run $rep" "$out"
        line="$(scenario_parse "$test" "$out")" || die "$test/$mode run $rep: cannot parse $out"
        # line: rps p50_ms p99_ms [note...]
        read -r rps p50 p99 note <<< "$line"
        # Server CPU per request: CPU seconds of the mode's server during the load run divided by
        # (req/s x wall seconds of the run): approximate (includes the load tool's start-up).
        read -r cpu_us cores < <(python3 -c "c=$c1-$c0; w=$w1-$w0; print(f'{c*1e6/($rps*w):.2f} {c/w:.2f}')")
        printf 'server cpu: %.2f s over %.2f s wall (%s cores); %s us/request\n' "$(python3 -c "print($c1-$c0)")" \
          "$(python3 -c "print($w1-$w0)")" "$cores" "$cpu_us" >> "$out"
        bench_raw "$test $mode run $rep (parsed)" <(printf 'rps p50_ms p99_ms note: %s\nserver cpu us/request %s, cores %s\n' "$line" "$cpu_us" "$cores")
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$scenario" "$test" "$mode" "$rep" "$rps" "$p50" "$p99" "$cpu_us" "$cores" "${note:-}" >> "$RESULTS_TSV"
        log "$(printf '%-6s %-8s run %d: %10s req/s  p50 %7s ms  p99 %7s ms  srv %6s us/req %5s cores  %s' "$test" "$mode" "$rep" "$rps" "$p50" "$p99" "$cpu_us" "$cores" "${note:-}")"
        [ "$SCENARIO_RESIDENT" = 1 ] || scenario_stop "$mode"
      done
    done
  done
  for mode in "${modes[@]}"; do scenario_stop "$mode"; done

  python3 "$BENCH/lib/summary.py" "$RESULTS_TSV" | tee -a "$RESULTS_TXT"
  # Results are committed: paths relative to the repository, not this machine's checkout.
  sed -i "s#$ROOT/#./#g; s#$ROOT#.#g" "$RESULTS_TXT"
  if [ "$PLOT" = 1 ]; then
    if command -v gnuplot >/dev/null 2>&1; then
      "$BENCH/plot" "$RESULTS_TSV" && log "plot: ${RESULTS_TSV%.tsv}.png"
    else
      log "gnuplot not installed: no plot (apt-get install gnuplot-nox; then bench/plot $RESULTS_TSV)"
    fi
  fi
  log "raw output: $RESULTS_TXT; per-run numbers: $RESULTS_TSV"
}
