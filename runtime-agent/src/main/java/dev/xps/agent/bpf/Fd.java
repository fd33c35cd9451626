package dev.xps.agent.bpf;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * An owned file descriptor (a BPF map, program or link, a cgroup directory, a netns file), closed exactly
 * once. The binding's handles own their descriptors: a handle taken from a {@link BpfObject} is a
 * duplicate, so it outlives the object. Do not close a handle while another thread is using it.
 */
public final class Fd implements AutoCloseable {
    private final AtomicInteger fd;
    private final String what;

    private Fd(int fd, String what) {
        if (fd < 0) {
            throw new IllegalArgumentException("invalid fd " + fd + " for " + what);
        }
        this.fd = new AtomicInteger(fd);
        this.what = what;
    }

    /** Takes ownership of {@code fd}. */
    static Fd adopt(int fd, String what) {
        return new Fd(fd, what);
    }

    /** An owned duplicate (close-on-exec) of a descriptor owned by someone else (e.g. libbpf). */
    static Fd duplicate(int fd, String what) {
        return new Fd(Native.Libc.dupCloexec(fd, what), what);
    }

    /** The raw descriptor. */
    public int get() {
        int v = fd.get();
        if (v < 0) {
            throw new IllegalStateException(what + " is closed");
        }
        return v;
    }

    public boolean isOpen() {
        return fd.get() >= 0;
    }

    /** An independently owned duplicate. */
    public Fd dup() {
        return duplicate(get(), what);
    }

    @Override
    public void close() {
        int v = fd.getAndSet(-1);
        if (v >= 0) {
            Native.Libc.close(v);
        }
    }

    @Override
    public String toString() {
        return what + "(fd " + fd.get() + ")";
    }
}
