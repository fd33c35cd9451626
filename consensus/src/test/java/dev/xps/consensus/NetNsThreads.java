package dev.xps.consensus;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.invoke.MethodHandle;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs code on a fresh platform thread that has entered a named network namespace ({@code /run/netns/NAME}) with
 * setns(2), which acts on the calling thread only. Sockets opened there stay in that namespace after the thread
 * ends, so a node's channels can be opened here and used from any thread. (Test code only: the consensus
 * library takes a {@link ChannelFactory} and knows nothing about namespaces.)
 */
final class NetNsThreads {
    private static final int O_RDONLY = 0;
    private static final int O_CLOEXEC = 0x80000;
    private static final int CLONE_NEWNET = 0x40000000;
    private static final MethodHandle OPEN;
    private static final MethodHandle SETNS;
    private static final MethodHandle CLOSE;

    static {
        Linker l = Linker.nativeLinker();
        var libc = l.defaultLookup();
        OPEN = l.downcallHandle(libc.find("open").orElseThrow(), FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        SETNS = l.downcallHandle(libc.find("setns").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
        CLOSE = l.downcallHandle(libc.find("close").orElseThrow(), FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    }

    private NetNsThreads() {}

    static <T> T call(String netns, Callable<T> work) {
        AtomicReference<T> result = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = Thread.ofPlatform().name("netns-" + netns).start(() -> {
            try (Arena arena = Arena.ofConfined()) {
                int fd = (int) OPEN.invokeExact(arena.allocateFrom("/run/netns/" + netns), O_RDONLY | O_CLOEXEC);
                if (fd < 0) {
                    throw new IllegalStateException("cannot open /run/netns/" + netns);
                }
                int rc = (int) SETNS.invokeExact(fd, CLONE_NEWNET);
                int ignored = (int) CLOSE.invokeExact(fd);
                if (rc != 0) {
                    throw new IllegalStateException("setns into " + netns + " failed");
                }
                result.set(work.call());
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        try {
            t.join(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        if (t.isAlive()) {
            throw new IllegalStateException("work in netns " + netns + " did not end in 30 s");
        }
        if (failure.get() != null) {
            throw new IllegalStateException("in netns " + netns + ": " + failure.get(), failure.get());
        }
        return result.get();
    }

    /** Opens sockets inside {@code netns}. */
    static ChannelFactory channels(String netns) {
        return bind -> call(netns, () -> ChannelFactory.standard().open(bind));
    }
}
