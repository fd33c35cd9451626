# shellcheck shell=bash
# Shared by the java-* scenarios: build once, before any server starts, so that the two servers'
# bin/xps-kv runs never build (XPS_STACK_NO_BUILD=1, XPSC_NO_BUILD=1) and never race each other.

java_stack_setup() {
  log "building runtime-stack (./mvnw -q -B -DskipTests -pl runtime-stack -am package)"
  (cd "$ROOT" && ./mvnw -q -B -DskipTests -pl runtime-stack -am package) > "$WORK/build-stack.log" 2>&1 \
    || { cat "$WORK/build-stack.log" >&2; die "runtime-stack build failed"; }
  log "checking the compiler (bin/xpsc builds cli/target/xpsc.jar when stale)"
  if ! "$ROOT/bin/xpsc" --help > "$WORK/build-xpsc.log" 2>&1; then
    if [ -f "$ROOT/cli/target/xpsc.jar" ]; then
      log "WARNING: rebuilding xpsc failed (work tree mid-edit?); using the existing cli/target/xpsc.jar — see $RESULTS_TXT"
      bench_raw "xpsc build failed; existing cli/target/xpsc.jar used" "$WORK/build-xpsc.log"
    else
      cat "$WORK/build-xpsc.log" >&2; die "xpsc build failed and there is no cli/target/xpsc.jar"
    fi
  fi
  export XPS_STACK_NO_BUILD=1 XPSC_NO_BUILD=1
}
