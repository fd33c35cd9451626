package dev.xps.agent.bpf;

/**
 * The result of running a program once (or {@code repeat} times) on given input with
 * {@code BPF_PROG_TEST_RUN}, without attaching it.
 *
 * @param returnValue the program's return value (e.g. {@code XDP_PASS} = 2)
 * @param durationNs mean ns per run, as the kernel measured it
 * @param dataOut the packet after the program ran (it may have rewritten or resized it)
 */
public record TestRun(int returnValue, int durationNs, byte[] dataOut) {
    public static final int XDP_ABORTED = 0;
    public static final int XDP_DROP = 1;
    public static final int XDP_PASS = 2;
    public static final int XDP_TX = 3;
    public static final int XDP_REDIRECT = 4;
}
