package dev.xps.agent.bpf;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs code inside a named network namespace ({@code ip netns add NAME}, i.e. {@code /run/netns/NAME}), for
 * the operations that act on the caller's namespace: looking up an interface, attaching XDP to it.
 *
 * <p>{@code setns(2)} changes the namespace of the calling OS thread only, so the work runs on a fresh
 * platform thread that enters the namespace, runs, and ends; no other JVM thread is affected. Links created
 * there keep referring to the namespace's interface after the thread ends.
 */
public final class NetNs {
    private static final Path NETNS_DIR = Path.of("/run/netns");

    private NetNs() {}

    /** The bind-mount {@code ip netns} keeps for {@code name}. */
    public static Path path(String name) {
        return NETNS_DIR.resolve(name);
    }

    /** Runs {@code work} in network namespace {@code name} and returns its result (or rethrows its exception). */
    public static <T> T call(String name, Callable<T> work) {
        Path ns = path(name);
        if (name.contains("/") || !Files.exists(ns)) {
            throw new IllegalArgumentException("no network namespace '" + name + "' (" + ns + " is missing;"
                    + " see: ip netns list)");
        }
        AtomicReference<T> result = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = Thread.ofPlatform().name("xps-netns-" + name).unstarted(() -> {
            try (Fd fd = Fd.adopt(Native.Libc.open(ns, Native.Libc.O_RDONLY), "netns " + name)) {
                Native.Libc.setns(fd.get(), Native.Libc.CLONE_NEWNET, "netns " + name);
                result.set(work.call());
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        t.start();
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running in netns " + name, e);
        }
        Throwable f = failure.get();
        if (f instanceof RuntimeException r) {
            throw r;
        }
        if (f instanceof Error e) {
            throw e;
        }
        if (f != null) {
            throw new IllegalStateException("in netns " + name + ": " + f.getMessage(), f);
        }
        return result.get();
    }

    /** {@link Preflight#ifindex} inside namespace {@code name}. */
    public static int ifindex(String name, String ifname) {
        return call(name, () -> Preflight.ifindex(ifname, "network namespace " + name));
    }
}
