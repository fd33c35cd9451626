package dev.xps.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent as users run it, through {@code bin/xps} processes: load the Redis fast path for a
 * cgroup, put data, kill -9 a running agent process, and a new process finds the context and every
 * map entry; unload then leaves no program or map of ours in the kernel ({@code bpftool}).
 */
class AgentKillRestartIT {
    private static final Path ROOT = Path.of(System.getProperty("xps.root.dir", "..")).toAbsolutePath().normalize();

    private record Result(int exit, String output) {}

    @Test
    void killNineKeepsEveryEntryAndUnloadLeavesTheKernelClean(@TempDir Path tmp) throws Exception {
        String id = UUID.randomUUID().toString().substring(0, 6);
        Path pins = Path.of("/sys/fs/bpf/xpsit-" + id);
        Path cgroup = Path.of("/sys/fs/cgroup/unified/xpsit-" + id);
        Path state = tmp.resolve("state");
        Files.createDirectories(cgroup);
        try {
            Result compiled = run(List.of(ROOT.resolve("bin/xpsc").toString(), "compile",
                    ROOT.resolve("samples/redis-get.xps").toString(), "--target", "ebpf", "-o", tmp.toString()));
            assertEquals(0, compiled.exit(), compiled.output());
            Path artifact = tmp.resolve("ebpf/redis-get");

            assertEquals(0, xps(pins, state, "load", "redis", artifact.toString(), "--cgroup", cgroup.toString()).exit());
            for (int i = 0; i < 6; i++) {
                Result put = xps(pins, state, "map", "put", "redis", "cache", "key" + i, "value" + i);
                assertEquals(0, put.exit(), put.output());
            }

            // A long-running agent process, killed with SIGKILL: nothing of its state may be lost.
            Process agent = xpsProcess(pins, state, "serve", "120");
            Thread.sleep(1500);
            assertTrue(agent.isAlive(), "xps serve exited early");
            agent.destroyForcibly();
            assertTrue(agent.waitFor(10, TimeUnit.SECONDS));
            assertEquals(137, agent.exitValue(), "killed by SIGKILL");

            Result status = xps(pins, state, "status");
            assertEquals(0, status.exit(), status.output());
            assertTrue(status.output().contains("redis"), status.output());
            Result dump = xps(pins, state, "map", "dump", "redis", "cache");
            assertEquals(0, dump.exit(), dump.output());
            for (int i = 0; i < 6; i++) {
                assertTrue(dump.output().contains("key" + i) && dump.output().contains("value" + i), dump.output());
            }
            Result get = xps(pins, state, "map", "get", "redis", "cache", "key3");
            assertEquals(0, get.exit(), get.output());
            assertTrue(get.output().contains("value3"), get.output());
            assertTrue(bpftool("prog").contains("redis_verdict"), "the program is still attached after the kill");

            Result unload = xps(pins, state, "unload", "redis");
            assertEquals(0, unload.exit(), unload.output());
            String progs = bpftool("prog");
            for (String program : List.of("redis_verdict", "redis_sockops", "redis_egress")) {
                assertFalse(progs.contains("\"" + program + "\""), program + " still loaded:\n" + progs);
            }
            assertFalse(Files.exists(pins.resolve("redis")), "pins left behind");
        } finally {
            if (Files.exists(pins.resolve("redis"))) {
                xps(pins, state, "unload", "redis");
            }
            deleteTree(pins);
            Files.deleteIfExists(cgroup);
        }
    }

    private static String bpftool(String what) throws Exception {
        Result r = run(List.of("bpftool", "-j", what, "show"));
        assertEquals(0, r.exit(), r.output());
        return r.output();
    }

    private static List<String> xpsCommand(Path pins, Path state, String... args) {
        List<String> command = new ArrayList<>(List.of(ROOT.resolve("bin/xps").toString(), "--pin-root",
                pins.toString(), "--state-root", state.toString()));
        command.addAll(List.of(args));
        return command;
    }

    private static Result xps(Path pins, Path state, String... args) throws Exception {
        return run(xpsCommand(pins, state, args));
    }

    private static Process xpsProcess(Path pins, Path state, String... args) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(xpsCommand(pins, state, args)).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put("XPS_NO_BUILD", "1");
        return pb.start();
    }

    private static Result run(List<String> command) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put("XPS_NO_BUILD", "1");
        pb.environment().put("XPSC_NO_BUILD", "1");
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "timed out: " + command);
        return new Result(p.exitValue(), String.join(" ", command) + "\n" + out);
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
