package dev.xps.agent.bpf;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * A loaded BPF program, by an owned file descriptor: its kernel info and run statistics, pinning, attaching
 * (as {@link BpfLink}s, or the legacy way), and test runs.
 *
 * <p>Attachments made through links ({@link #attachCgroup}, {@link #attachToMap}, {@link #attachXdp}) last as
 * long as the link: while its descriptor is open or it is pinned. The legacy attachments
 * ({@link #attachLegacy}, {@link #attachXdpLegacy}) belong to the target (cgroup, map, interface) and stay
 * until explicitly detached; the agent uses links (see runtime-agent/README.md).
 */
public final class BpfProgram implements AutoCloseable {
    static final int LINK_CREATE_OPTS_SIZE = 64;
    static final int XDP_ATTACH_OPTS_SIZE = 16;
    static final int XDP_QUERY_OPTS_SIZE = 32;
    static final int TEST_RUN_OPTS_SIZE = 80;

    private final Fd fd;
    private final ProgramInfo initial;
    private final String label;

    BpfProgram(Fd fd) {
        this.fd = fd;
        try {
            this.initial = readInfo(fd.get());
        } catch (RuntimeException e) {
            fd.close();
            throw e;
        }
        this.label = "program '" + initial.name() + "'";
    }

    /** Opens a pinned program ({@code bpf_obj_get}). */
    public static BpfProgram fromPin(Path pin) {
        return new BpfProgram(ObjectFds.objGet(pin, ObjectFds.Kind.PROGRAM));
    }

    /** Opens a program by its kernel id. */
    public static BpfProgram fromId(int id) {
        return new BpfProgram(ObjectFds.fromId(ObjectFds.Kind.PROGRAM, id));
    }

    /** True while the kernel has a program with this id. */
    public static boolean exists(int id) {
        return ObjectFds.idExists(ObjectFds.Kind.PROGRAM, id);
    }

    static ProgramInfo readInfo(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = ObjectFds.info(fd, ProgramInfo.SIZE, arena, "program fd " + fd);
            return new ProgramInfo(ProgramType.of(b.get(JAVA_INT, ProgramInfo.OFF_TYPE)),
                    b.get(JAVA_INT, ProgramInfo.OFF_ID),
                    ObjectFds.cName(b, ProgramInfo.OFF_NAME, 16),
                    HexFormat.of().formatHex(b.asSlice(ProgramInfo.OFF_TAG, 8).toArray(JAVA_BYTE)),
                    b.get(JAVA_LONG, ProgramInfo.OFF_RUN_TIME_NS),
                    b.get(JAVA_LONG, ProgramInfo.OFF_RUN_CNT),
                    b.get(JAVA_LONG, ProgramInfo.OFF_RECURSION_MISSES),
                    b.get(JAVA_INT, ProgramInfo.OFF_VERIFIED_INSNS),
                    b.get(JAVA_INT, ProgramInfo.OFF_NR_MAP_IDS));
        }
    }

    /** Fresh info from the kernel, including the run counters. */
    public ProgramInfo info() {
        return readInfo(fd.get());
    }

    public int id() {
        return initial.id();
    }

    public String name() {
        return initial.name();
    }

    public ProgramType type() {
        return initial.type();
    }

    public Fd fd() {
        return fd;
    }

    /** Pins this program at {@code path} ({@code bpf_obj_pin}). */
    public void pin(Path path) {
        ObjectFds.objPin(fd.get(), path, label);
    }

    // ------------------------------------------------------------------ links

    /**
     * Attaches to a cgroup v2 directory with a link ({@code bpf_link_create}, e.g. {@link AttachType#CGROUP_SOCK_OPS}).
     * Sockets created by processes in that cgroup (or below) are affected.
     */
    public BpfLink attachCgroup(Path cgroup, AttachType type) {
        Preflight.requireCgroupV2(cgroup);
        try (Fd cg = Fd.adopt(Native.Libc.open(cgroup, Native.Libc.O_RDONLY | Native.Libc.O_DIRECTORY),
                "cgroup " + cgroup)) {
            return linkCreate(cg.get(), type, 0, "cgroup " + cgroup);
        }
    }

    /**
     * Attaches to a sockmap or sockhash with a link (kernel 6.10+), e.g. {@link AttachType#SK_SKB_STREAM_VERDICT}:
     * the program then runs on every skb received by a socket in the map.
     */
    public BpfLink attachToMap(BpfMap map, AttachType type) {
        return linkCreate(map.fd().get(), type, 0, map.toString());
    }

    /** Attaches to a network interface's XDP hook with a link. */
    public BpfLink attachXdp(int ifindex, XdpMode mode) {
        return linkCreate(ifindex, AttachType.XDP, mode.flags, "ifindex " + ifindex + " (" + mode + ")");
    }

    /**
     * Attaches a TC program ({@code SEC("tc")}, sched_cls) to a network interface's tcx hook with a link
     * (kernel 6.6+): {@link AttachType#TCX_INGRESS} or {@link AttachType#TCX_EGRESS}. The program runs after
     * the ones already attached; the attachment lasts as long as the link.
     */
    public BpfLink attachTcx(int ifindex, AttachType type) {
        if (type != AttachType.TCX_INGRESS && type != AttachType.TCX_EGRESS) {
            throw new IllegalArgumentException("a tcx attachment is TCX_INGRESS or TCX_EGRESS, not " + type);
        }
        return linkCreate(ifindex, type, 0, "ifindex " + ifindex);
    }

    private BpfLink linkCreate(int target, AttachType type, int flags, String what) {
        var bpf = Native.bpf();
        try (var log = LibbpfLog.capture(); Arena arena = Arena.ofConfined()) {
            MemorySegment cap = Native.captureSegment(arena);
            MemorySegment opts = arena.allocate(LINK_CREATE_OPTS_SIZE, 8);
            opts.set(JAVA_LONG, 0, LINK_CREATE_OPTS_SIZE);
            opts.set(JAVA_INT, 8, flags);
            int r = (int) bpf.linkCreate.invokeExact(cap, fd.get(), target, type.value(), opts);
            Native.check(r, cap, "bpf_link_create", label + " -> " + what + " as " + type);
            return new BpfLink(Fd.adopt(r, "link " + label + " -> " + what));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    // ------------------------------------------------------------------ legacy attachment

    /**
     * {@code bpf_prog_attach}: attaches to a cgroup or a sockmap/sockhash descriptor the legacy way. The
     * attachment belongs to the target and stays until {@link #detachLegacy} (or until a map target is freed).
     */
    public void attachLegacy(Fd target, AttachType type, int flags) {
        var bpf = Native.bpf();
        try (var log = LibbpfLog.capture(); Arena arena = Arena.ofConfined()) {
            MemorySegment cap = Native.captureSegment(arena);
            int r = (int) bpf.progAttach.invokeExact(cap, fd.get(), target.get(), type.value(), flags);
            Native.check(r, cap, "bpf_prog_attach", label + " -> " + target + " as " + type);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** {@code bpf_prog_detach2}: undoes {@link #attachLegacy}. */
    public void detachLegacy(Fd target, AttachType type) {
        var bpf = Native.bpf();
        try (var log = LibbpfLog.capture(); Arena arena = Arena.ofConfined()) {
            MemorySegment cap = Native.captureSegment(arena);
            int r = (int) bpf.progDetach2.invokeExact(cap, fd.get(), target.get(), type.value());
            Native.check(r, cap, "bpf_prog_detach2", label + " -> " + target + " as " + type);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** {@code bpf_xdp_attach} (netlink): the program stays on the interface until {@link #detachXdpLegacy}. */
    public void attachXdpLegacy(int ifindex, XdpMode mode) {
        var bpf = Native.bpf();
        try (var log = LibbpfLog.capture(); Arena arena = Arena.ofConfined()) {
            MemorySegment cap = Native.captureSegment(arena);
            MemorySegment opts = arena.allocate(XDP_ATTACH_OPTS_SIZE, 8);
            opts.set(JAVA_LONG, 0, XDP_ATTACH_OPTS_SIZE);
            int r = (int) bpf.xdpAttach.invokeExact(cap, ifindex, fd.get(), mode.flags, opts);
            Native.check(r, cap, "bpf_xdp_attach", label + " -> ifindex " + ifindex + " (" + mode + ")");
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** {@code bpf_xdp_detach}: removes whatever XDP program is attached in {@code mode}. */
    public static void detachXdpLegacy(int ifindex, XdpMode mode) {
        var bpf = Native.bpf();
        try (var log = LibbpfLog.capture(); Arena arena = Arena.ofConfined()) {
            MemorySegment cap = Native.captureSegment(arena);
            MemorySegment opts = arena.allocate(XDP_ATTACH_OPTS_SIZE, 8);
            opts.set(JAVA_LONG, 0, XDP_ATTACH_OPTS_SIZE);
            int r = (int) bpf.xdpDetach.invokeExact(cap, ifindex, mode.flags, opts);
            Native.check(r, cap, "bpf_xdp_detach", "ifindex " + ifindex + " (" + mode + ")");
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** {@code bpf_xdp_query}: which XDP programs are on the interface. */
    public static XdpState queryXdp(int ifindex) {
        var bpf = Native.bpf();
        try (var log = LibbpfLog.capture(); Arena arena = Arena.ofConfined()) {
            MemorySegment cap = Native.captureSegment(arena);
            MemorySegment opts = arena.allocate(XDP_QUERY_OPTS_SIZE, 8);
            opts.set(JAVA_LONG, 0, XDP_QUERY_OPTS_SIZE);
            int r = (int) bpf.xdpQuery.invokeExact(cap, ifindex, 0, opts);
            Native.check(r, cap, "bpf_xdp_query", "ifindex " + ifindex);
            return new XdpState(opts.get(JAVA_INT, 8), opts.get(JAVA_INT, 12), opts.get(JAVA_INT, 20),
                    opts.get(JAVA_INT, 16), opts.get(JAVA_BYTE, 24) & 0xff);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** {@code bpf_prog_query}: ids of the programs attached to a cgroup or map for {@code type}. */
    public static List<Integer> query(Fd target, AttachType type) {
        var bpf = Native.bpf();
        try (var log = LibbpfLog.capture(); Arena arena = Arena.ofConfined()) {
            MemorySegment cap = Native.captureSegment(arena);
            int max = 64;
            MemorySegment ids = arena.allocate(JAVA_INT, max);
            MemorySegment count = arena.allocate(JAVA_INT);
            count.set(JAVA_INT, 0, max);
            MemorySegment attachFlags = arena.allocate(JAVA_INT);
            int r = (int) bpf.progQuery.invokeExact(cap, target.get(), type.value(), 0, attachFlags, ids, count);
            Native.check(r, cap, "bpf_prog_query", target + " " + type);
            List<Integer> out = new ArrayList<>();
            for (int i = 0; i < Math.min(max, count.get(JAVA_INT, 0)); i++) {
                out.add(ids.getAtIndex(JAVA_INT, i));
            }
            return out;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** {@link #query(Fd, AttachType)} on a cgroup directory. */
    public static List<Integer> queryCgroup(Path cgroup, AttachType type) {
        try (Fd cg = Fd.adopt(Native.Libc.open(cgroup, Native.Libc.O_RDONLY | Native.Libc.O_DIRECTORY),
                "cgroup " + cgroup)) {
            return query(cg, type);
        }
    }

    // ------------------------------------------------------------------ test runs

    /**
     * Runs the program {@code repeat} times on {@code data} with {@code BPF_PROG_TEST_RUN} (program types
     * that support it: XDP, sched_cls, ...), without attaching it. Map side effects are real.
     */
    public TestRun testRun(byte[] data, int repeat) {
        var bpf = Native.bpf();
        try (var log = LibbpfLog.capture(); Arena arena = Arena.ofConfined()) {
            MemorySegment cap = Native.captureSegment(arena);
            int outSize = data.length + 4096;
            MemorySegment in = arena.allocate(Math.max(1, data.length), 8);
            MemorySegment.copy(data, 0, in, JAVA_BYTE, 0, data.length);
            MemorySegment out = arena.allocate(outSize, 8);
            MemorySegment opts = arena.allocate(TEST_RUN_OPTS_SIZE, 8);
            opts.set(JAVA_LONG, 0, TEST_RUN_OPTS_SIZE);
            opts.set(java.lang.foreign.ValueLayout.ADDRESS, 8, in);
            opts.set(java.lang.foreign.ValueLayout.ADDRESS, 16, out);
            opts.set(JAVA_INT, 24, data.length);
            opts.set(JAVA_INT, 28, outSize);
            opts.set(JAVA_INT, 60, Math.max(1, repeat));
            int r = (int) bpf.progTestRunOpts.invokeExact(cap, fd.get(), opts);
            Native.check(r, cap, "bpf_prog_test_run_opts", label);
            int outLen = Math.min(opts.get(JAVA_INT, 28), outSize);
            return new TestRun(opts.get(JAVA_INT, 56), opts.get(JAVA_INT, 64),
                    out.asSlice(0, outLen).toArray(JAVA_BYTE));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    @Override
    public void close() {
        fd.close();
    }

    @Override
    public String toString() {
        return label + " (" + initial.type().name().toLowerCase() + ", id " + initial.id() + ")";
    }
}
