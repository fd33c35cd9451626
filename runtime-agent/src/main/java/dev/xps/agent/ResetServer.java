package dev.xps.agent;

import dev.xps.agent.bpf.BpfMap;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Carries out the resets that handlers ask for: a stream verdict cannot destroy a socket, so it reports the
 * connection on the context's {@code xps_resets} ring buffer and someone must destroy it (docs/ebpf-target.md,
 * "Resets"). {@link #serve} does that for every context of an agent, picking up contexts loaded after it started
 * and letting go of deleted ones.
 *
 * <p>{@code xps load} keeps one <em>resident</em> server per state root running in the background
 * ({@link #ensureResident}: a detached {@code xps serve --resident}, its pid in {@code STATE_ROOT/serve.pid},
 * its log in {@code serve.log}); it exits by itself once no context is left, so {@code xps unload} of the last
 * context stops it. A reset asked for while no server runs is carried out when one starts (the ring buffer
 * keeps it), except that the connection may have sent more in between — which the kernel drops.
 */
public final class ResetServer {
    static final String PID_FILE = "serve.pid";
    static final String LOG_FILE = "serve.log";
    private static final Duration RESCAN = Duration.ofMillis(500);
    private static final Duration POLL = Duration.ofMillis(100);

    private ResetServer() {}

    /**
     * Serves resets for the agent's contexts until {@code seconds} have passed, the JVM is asked to stop, or —
     * when {@code untilNoContexts} — no context is left.
     */
    public static void serve(Agent agent, long seconds, boolean untilNoContexts, PrintStream out) {
        long deadline = seconds == Long.MAX_VALUE ? Long.MAX_VALUE : System.nanoTime() + seconds * 1_000_000_000L;
        AtomicBoolean running = new AtomicBoolean(true);
        Set<String> live = ConcurrentHashMap.newKeySet();
        Set<String> started = new HashSet<>();
        List<Thread> threads = new ArrayList<>();
        Thread hook = new Thread(() -> running.set(false));
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            while (running.get() && System.nanoTime() < deadline) {
                List<String> names = agent.contexts();
                live.retainAll(names);
                for (String name : names) {
                    if (started.add(name)) { // a context is served once; a reloaded one under the same name is new
                        live.add(name);
                        threads.add(Thread.ofPlatform().name("xps-resets-" + name).start(() -> {
                            try {
                                serveOne(agent, name, () -> running.get() && live.contains(name)
                                        && System.nanoTime() < deadline, out);
                            } catch (RuntimeException e) {
                                out.println(name + ": " + e.getMessage());
                            }
                        }));
                    }
                }
                started.retainAll(names);
                if (untilNoContexts && names.isEmpty()) {
                    out.println("no contexts left: the reset server stops");
                    break;
                }
                Thread.sleep(RESCAN);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            running.set(false);
            for (Thread t : threads) {
                try {
                    t.join(5_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // the JVM is already shutting down
            }
        }
    }

    /**
     * Serves one context's resets while {@code until} holds and the context is still pinned. Holds only the
     * context's reset ring buffer, not its programs, so an unload frees the programs at once and the ring
     * buffer within one poll ({@link #awaitReleased}).
     */
    private static void serveOne(Agent agent, String name, java.util.function.BooleanSupplier until, PrintStream out) {
        Manifest m = Manifest.read(agent.stateRoot().resolve(name).resolve("manifest.json"));
        if (m.resetsMap().isEmpty()) {
            return; // no TCP entry point: nothing to reset
        }
        String cannot = SocketDestroyer.probe();
        if (cannot != null) {
            out.println(name + ": " + cannot + "; connections its handlers reset are only dropped");
            return;
        }
        Pins pins = Pins.of(agent.pinRoot(), name);
        try (BpfMap ring = BpfMap.fromPin(pins.map(m.resetsMap().get()))) {
            out.println(name + ": serving resets");
            Context.serveResets(ring, () -> until.getAsBoolean() && Files.isDirectory(pins.dir()), POLL,
                    ev -> out.println(name + ": reset " + ev));
        }
    }

    /**
     * The id of context {@code name}'s reset ring buffer while a resident server may hold it, for
     * {@link #awaitReleased} after an unload; empty when there is nothing to wait for.
     */
    static Optional<Integer> heldRing(Agent agent, String name) {
        if (resident(agent.stateRoot()).isEmpty()) {
            return Optional.empty();
        }
        try {
            Manifest m = Manifest.read(agent.stateRoot().resolve(name).resolve("manifest.json"));
            if (m.resetsMap().isEmpty()) {
                return Optional.empty();
            }
            try (BpfMap ring = BpfMap.fromPin(Pins.of(agent.pinRoot(), name).map(m.resetsMap().get()))) {
                return Optional.of(ring.id());
            }
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Waits (at most 5 s) until the kernel has freed map {@code id}: the resident server let go of it. */
    static boolean awaitReleased(int id) {
        long end = System.nanoTime() + 5_000_000_000L;
        while (BpfMap.exists(id)) {
            if (System.nanoTime() > end) {
                return false;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    /** The pid of the resident server for this state root, if one is running. */
    public static Optional<Long> resident(Path stateRoot) {
        Path pidFile = stateRoot.resolve(PID_FILE);
        try {
            long pid = Long.parseLong(Files.readString(pidFile, StandardCharsets.US_ASCII).strip());
            return ProcessHandle.of(pid).filter(ProcessHandle::isAlive)
                    .filter(h -> h.info().commandLine().map(c -> c.contains(Cli.class.getName())
                            && c.contains(" serve")).orElse(false))
                    .map(ProcessHandle::pid);
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /**
     * Starts the resident server for these roots unless one runs: this JVM's java, class path and native access,
     * detached from the caller's session ({@code setsid}) so that the caller's exit or ^C does not stop it.
     *
     * @return its pid
     */
    public static long ensureResident(Path pinRoot, Path stateRoot) {
        Optional<Long> running = resident(stateRoot);
        if (running.isPresent()) {
            return running.get();
        }
        String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"),
                "bin", "java").toString());
        List<String> cmd = new ArrayList<>();
        if (Files.isExecutable(Path.of("/usr/bin/setsid"))) {
            cmd.add("/usr/bin/setsid");
        }
        cmd.addAll(List.of(java, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                Cli.class.getName(), "--pin-root", pinRoot.toString(), "--state-root", stateRoot.toString(),
                "serve", "--resident"));
        try {
            Files.createDirectories(stateRoot);
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(stateRoot.resolve(LOG_FILE).toFile()))
                    .start();
            // setsid execs the JVM in the same process, so p's pid is the server's
            Path tmp = stateRoot.resolve(PID_FILE + ".tmp");
            Files.writeString(tmp, Long.toString(p.pid()), StandardCharsets.US_ASCII);
            Files.move(tmp, stateRoot.resolve(PID_FILE), StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
            return p.pid();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the reset server (" + String.join(" ", cmd) + ")", e);
        }
    }
}
