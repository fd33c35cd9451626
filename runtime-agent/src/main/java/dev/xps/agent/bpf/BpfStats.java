package dev.xps.agent.bpf;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The kernel's per-program run statistics ({@code run_time_ns}, {@code run_cnt} in {@link ProgramInfo}).
 * They count only while enabled: either the sysctl {@code kernel.bpf_stats_enabled=1}, or — what the agent
 * does — holding the descriptor {@code bpf_enable_stats(BPF_STATS_RUN_TIME)} returns, which enables them
 * until it is closed (or the process exits) without touching the sysctl.
 */
public final class BpfStats {
    private static final Path SYSCTL = Path.of("/proc/sys/kernel/bpf_stats_enabled");
    private static final int BPF_STATS_RUN_TIME = 0;

    private BpfStats() {}

    /** Enables run-time statistics until the returned descriptor is closed. */
    public static Fd enable() {
        var bpf = Native.bpf();
        try (var log = LibbpfLog.capture(); Arena arena = Arena.ofConfined()) {
            MemorySegment cap = Native.captureSegment(arena);
            int r = (int) bpf.enableStats.invokeExact(cap, BPF_STATS_RUN_TIME);
            Native.check(r, cap, "bpf_enable_stats", "BPF_STATS_RUN_TIME");
            return Fd.adopt(r, "bpf stats");
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** True when the sysctl {@code kernel.bpf_stats_enabled} is 1 (statistics are on for everyone). */
    public static boolean sysctlEnabled() {
        try {
            return Files.readString(SYSCTL).strip().equals("1");
        } catch (IOException e) {
            return false;
        }
    }
}
