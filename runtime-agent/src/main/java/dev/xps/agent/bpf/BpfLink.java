package dev.xps.agent.bpf;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * A BPF link: one attachment of a program (to a cgroup, a sockmap, an interface), by an owned descriptor.
 *
 * <p>The attachment lasts while any descriptor or pin refers to the link: closing the last descriptor of an
 * unpinned link detaches it; a pinned link survives its process (this is how an agent that dies keeps its
 * programs attached, and how a restarted agent finds them again). {@link #detach()} ends the attachment
 * at once, whoever else holds the link. {@link #update} swaps the program atomically.
 */
public final class BpfLink implements AutoCloseable {
    static final int UPDATE_OPTS_SIZE = 16;
    private static final int BPF_F_REPLACE = 4;

    private final Fd fd;
    private final int id;

    BpfLink(Fd fd) {
        this.fd = fd;
        try {
            this.id = readInfo(fd.get()).id();
        } catch (RuntimeException e) {
            fd.close();
            throw e;
        }
    }

    /** Opens a pinned link ({@code bpf_obj_get}). */
    public static BpfLink fromPin(Path pin) {
        return new BpfLink(ObjectFds.objGet(pin, ObjectFds.Kind.LINK));
    }

    /** Opens a link by its kernel id. */
    public static BpfLink fromId(int id) {
        return new BpfLink(ObjectFds.fromId(ObjectFds.Kind.LINK, id));
    }

    /** True while the kernel has a link with this id. */
    public static boolean exists(int id) {
        return ObjectFds.idExists(ObjectFds.Kind.LINK, id);
    }

    static LinkInfo readInfo(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = ObjectFds.info(fd, LinkInfo.SIZE, arena, "link fd " + fd);
            int type = b.get(JAVA_INT, LinkInfo.OFF_TYPE);
            long cgroupId = 0;
            int ifindex = 0;
            int mapId = 0;
            int attachType = -1;
            switch (type) {
                case LinkInfo.TYPE_CGROUP -> {
                    cgroupId = b.get(JAVA_LONG, LinkInfo.OFF_UNION);
                    attachType = b.get(JAVA_INT, LinkInfo.OFF_CGROUP_ATTACH_TYPE);
                }
                case LinkInfo.TYPE_XDP -> ifindex = b.get(JAVA_INT, LinkInfo.OFF_UNION);
                case LinkInfo.TYPE_TCX -> { // { __u32 ifindex; __u32 attach_type; }
                    ifindex = b.get(JAVA_INT, LinkInfo.OFF_UNION);
                    attachType = b.get(JAVA_INT, LinkInfo.OFF_UNION + 4);
                }
                case LinkInfo.TYPE_SOCKMAP -> {
                    mapId = b.get(JAVA_INT, LinkInfo.OFF_UNION);
                    attachType = b.get(JAVA_INT, LinkInfo.OFF_UNION + 4);
                }
                default -> { }
            }
            return new LinkInfo(type, b.get(JAVA_INT, LinkInfo.OFF_ID), b.get(JAVA_INT, LinkInfo.OFF_PROG_ID),
                    cgroupId, ifindex, mapId, attachType);
        }
    }

    /** Fresh info from the kernel. */
    public LinkInfo info() {
        return readInfo(fd.get());
    }

    public int id() {
        return id;
    }

    public Fd fd() {
        return fd;
    }

    /** Pins this link at {@code path}: the attachment then outlives this process. */
    public void pin(Path path) {
        ObjectFds.objPin(fd.get(), path, "link " + id);
    }

    /** Replaces the attached program atomically ({@code bpf_link_update}); traffic never sees neither. */
    public void update(BpfProgram program) {
        update(program, null);
    }

    /**
     * Replaces the attached program atomically, but only if it is still {@code expected}
     * ({@code BPF_F_REPLACE}; {@code EPERM} otherwise): a compare-and-swap against a concurrent updater.
     */
    public void update(BpfProgram program, BpfProgram expected) {
        var bpf = Native.bpf();
        try (var log = LibbpfLog.capture(); Arena arena = Arena.ofConfined()) {
            MemorySegment cap = Native.captureSegment(arena);
            MemorySegment opts = arena.allocate(UPDATE_OPTS_SIZE, 8);
            opts.set(JAVA_LONG, 0, UPDATE_OPTS_SIZE);
            if (expected != null) {
                opts.set(JAVA_INT, 8, BPF_F_REPLACE);
                opts.set(JAVA_INT, 12, expected.fd().get());
            }
            int r = (int) bpf.linkUpdate.invokeExact(cap, fd.get(), program.fd().get(), opts);
            Native.check(r, cap, "bpf_link_update", "link " + id + " -> " + program);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /**
     * Detaches now ({@code bpf_link_detach}): the program stops running at the link's target, even if other
     * descriptors or a pin still refer to the link (they then hold a defunct link).
     */
    public void detach() {
        var bpf = Native.bpf();
        try (var log = LibbpfLog.capture(); Arena arena = Arena.ofConfined()) {
            MemorySegment cap = Native.captureSegment(arena);
            int r = (int) bpf.linkDetach.invokeExact(cap, fd.get());
            Native.check(r, cap, "bpf_link_detach", "link " + id);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** Closes this descriptor; an unpinned link with no other descriptor is detached by the kernel. */
    @Override
    public void close() {
        fd.close();
    }

    @Override
    public String toString() {
        return "link " + id;
    }
}
