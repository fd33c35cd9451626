package dev.xps.agent.bpf;

/**
 * What the kernel says about a program ({@code struct bpf_prog_info}).
 *
 * <p>{@code runTimeNs} and {@code runCount} count only while BPF statistics are enabled
 * ({@code kernel.bpf_stats_enabled=1}, or {@link BpfStats#enable()} held open); they are cumulative over
 * the program's life.
 *
 * @param type the program type
 * @param id the kernel-wide program id (as {@code bpftool prog} shows it)
 * @param name the kernel's name (at most 15 characters)
 * @param tag the program's 8-byte tag, in hex
 * @param runTimeNs total time spent in the program, ns
 * @param runCount number of runs
 * @param recursionMisses runs skipped because the program was already running on that CPU
 * @param verifiedInstructions instructions the verifier processed
 * @param mapCount number of maps the program uses
 */
public record ProgramInfo(ProgramType type, int id, String name, String tag, long runTimeNs, long runCount,
                          long recursionMisses, int verifiedInstructions, int mapCount) {
    // struct bpf_prog_info offsets (linux/bpf.h; checked by StructLayoutTest)
    static final int SIZE = 232;
    static final int OFF_TYPE = 0;
    static final int OFF_ID = 4;
    static final int OFF_TAG = 8;
    static final int OFF_NR_MAP_IDS = 52;
    static final int OFF_NAME = 64;
    static final int OFF_RUN_TIME_NS = 192;
    static final int OFF_RUN_CNT = 200;
    static final int OFF_RECURSION_MISSES = 208;
    static final int OFF_VERIFIED_INSNS = 216;

    /** Mean ns per run, or 0 before the first counted run. */
    public double meanRunTimeNs() {
        return runCount == 0 ? 0 : (double) runTimeNs / runCount;
    }
}
