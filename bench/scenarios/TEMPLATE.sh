# shellcheck shell=bash
# DESC: (template, not runnable) copy to bench/scenarios/<name>.sh for a new scenario
#
# A scenario is one file sourced by bench/run (bash, `set -euo pipefail`). The harness owns the
# loop: setup once; start both modes (or each run, see SCENARIO_RESIDENT); for each test one
# warm-up per mode, then --reps repetitions interleaved baseline, fast, baseline, fast, ...;
# medians and ratios fast/baseline; the plot. The modes are always `baseline` and `fast`.
#
# What the harness gives a scenario:
#   $ROOT, $BENCH          the repository and bench/ directories
#   $WORK                  a scratch directory, removed at exit
#   $RESULTS_TXT           the raw-output file (append with bench_raw TITLE FILE)
#   bench_spawn MODE LOG CMD...   start a server in the background (own process group); its pid is
#                          $SPAWNED_PID and it is killed at exit, on failure and on ^C
#   bench_stop_mode MODE   kill what was spawned for MODE (the default scenario_stop)
#   bench_wait_port PORT SECS PID, bench_free_port, bench_need TOOL..., log MSG, die MSG
#
# What a scenario defines (required unless marked optional):
#   SCENARIO_RESIDENT=1|0  optional, default 1: both servers stay up for the whole run (each on
#                          its own port). Set 0 when the modes cannot coexist (one redis-server on
#                          6379 with or without the eBPF programs attached): then scenario_start /
#                          scenario_prepare / scenario_stop run around every single run.
#   scenario_setup         check tools (bench_need), build, check privileges; die if impossible
#   scenario_describe      optional: '# ...' lines for the results file (versions, exact commands)
#   scenario_tests         print the test names, e.g. "get mix"
#   scenario_start MODE    start the system under test for MODE (baseline|fast); return when ready
#   scenario_prepare MODE  optional: preload data, check both modes answer the same
#   scenario_stop MODE     optional: default kills MODE's spawned pids; detach programs etc. here
#   scenario_load TEST MODE REP OUT
#                          run ONE bounded load (a request count and/or a duration, plus a
#                          `timeout`) against MODE, all output to OUT; non-zero = failure
#   scenario_parse TEST OUT
#                          print one line: "RPS P50_MS P99_MS [NOTE]" (NOTE: one word, no spaces)
#
# Kernel scenarios to copy from: kernel-redis (cgroup + bin/xps load --cgroup, TCP), kernel-memcached
# (netns + veth + bin/xps load --interface, XDP), kernel-nginx. Each reads the kernel's own cost per
# program run (kernel.bpf_stats_enabled; bpftool prog show pinned PIN: run_time_ns / run_cnt) into
# the note column.

scenario_setup() { die "TEMPLATE is not a scenario"; }
scenario_tests() { echo example; }
scenario_start() {
  local mode="$1" port
  port="$(bench_free_port)"
  bench_spawn "$mode" "$WORK/server-$mode.log" some-server --port "$port"
  bench_wait_port "$port" 30 "$SPAWNED_PID" || die "server ($mode) did not start"
}
scenario_load() { timeout 120 some-client -n 100000 > "$4" 2>&1; }
scenario_parse() { awk '/rps/ { print $2, $3, $4 }' "$2"; }
