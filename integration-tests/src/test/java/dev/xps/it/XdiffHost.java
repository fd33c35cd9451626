package dev.xps.it;

import dev.xps.agent.bpf.NetNs;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The machine-wide things one kernel differential run creates, each named {@code xdiff-<6 random
 * characters>} and removed by {@link #close()}: a network namespace (its own loopback, so the
 * samples' well-known ports are free and nothing else on the machine sees the traffic), a cgroup v2
 * (where the TCP programs attach) and a bpffs pin root. A thread that lives inside the namespace
 * runs whatever must create sockets there ({@link #inNetns}).
 */
final class XdiffHost implements AutoCloseable {
    static final Path CGROUP_ROOT = Path.of("/sys/fs/cgroup/unified");
    private static final Runnable STOP = () -> { };

    final String name;
    final Path cgroup;
    final Path pinRoot;
    final Path stateRoot;
    private final LinkedBlockingQueue<Runnable> tasks = new LinkedBlockingQueue<>();
    private final Thread netnsThread;

    XdiffHost() throws IOException {
        SecureRandom random = new SecureRandom();
        StringBuilder id = new StringBuilder();
        for (int i = 0; i < 6; i++) {
            id.append(Character.forDigit(random.nextInt(36), 36));
        }
        this.name = "xdiff-" + id;
        this.cgroup = CGROUP_ROOT.resolve(name);
        this.pinRoot = Path.of("/sys/fs/bpf").resolve(name);
        this.stateRoot = Files.createTempDirectory(name + "-state-");
        boolean ok = false;
        try {
            Files.createDirectory(cgroup);
            run("ip", "netns", "add", name);
            run("ip", "-n", name, "link", "set", "lo", "up");
            netnsThread = Thread.ofPlatform().daemon().name(name + "-netns").start(() -> NetNs.call(name, () -> {
                for (Runnable task = tasks.take(); task != STOP; task = tasks.take()) {
                    task.run();
                }
                return null;
            }));
            ok = true;
        } finally {
            if (!ok) {
                close();
            }
        }
    }

    /** Runs {@code work} on the thread inside the namespace (sockets it creates belong to the namespace). */
    <T> T inNetns(Callable<T> work) throws Exception {
        FutureTask<T> task = new FutureTask<>(work);
        tasks.put(task);
        try {
            return task.get(2, TimeUnit.MINUTES);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception x) {
                throw x;
            }
            throw e;
        }
    }

    /** Adds an IPv4 address to the namespace's loopback (for predicates naming addresses). */
    void addAddress(String ip) throws IOException {
        run("ip", "-n", name, "addr", "add", ip + "/32", "dev", "lo");
    }

    /**
     * Runs {@code work} with this process in the cgroup: a socket's cgroup is fixed when it is created
     * (an accepted socket inherits its listener's), so a listener created here is the service's, in
     * the cgroup the TCP programs are attached to. The process goes back to its own cgroup afterwards.
     */
    <T> T inCgroup(Callable<T> work) throws Exception {
        Path home = ownCgroup();
        String pid = Long.toString(ProcessHandle.current().pid());
        Files.writeString(cgroup.resolve("cgroup.procs"), pid);
        try {
            return work.call();
        } finally {
            Files.writeString(home.resolve("cgroup.procs"), pid);
        }
    }

    private static Path ownCgroup() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/cgroup"))) {
            if (line.startsWith("0::")) {
                String rel = line.substring(3);
                return rel.equals("/") ? CGROUP_ROOT : CGROUP_ROOT.resolve(rel.substring(1));
            }
        }
        throw new IOException("no cgroup v2 line in /proc/self/cgroup");
    }

    static String run(String... command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", command) + " failed: " + out.strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted: " + String.join(" ", command), e);
        }
        return out;
    }

    @Override
    public void close() {
        List<String> problems = new ArrayList<>();
        if (netnsThread != null) {
            tasks.add(STOP);
            try {
                netnsThread.join(Duration.ofSeconds(10));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            if (Files.exists(Path.of("/run/netns", name))) {
                run("ip", "netns", "del", name);
            }
        } catch (IOException e) {
            problems.add(e.getMessage());
        }
        deleteTree(pinRoot, problems);
        deleteTree(stateRoot, problems);
        for (int i = 0; i < 100 && Files.exists(cgroup); i++) {
            try {
                Files.delete(cgroup);
            } catch (IOException busy) {
                try {
                    Thread.sleep(50); // sockets of the cgroup take a moment to go
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        if (Files.exists(cgroup)) {
            problems.add("could not remove " + cgroup);
        }
        if (!problems.isEmpty()) {
            System.err.println("WARNING: " + name + " cleanup: " + String.join("; ", problems));
        }
    }

    private static void deleteTree(Path root, List<String> problems) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            problems.add("could not remove " + root + ": " + e);
        }
    }
}
