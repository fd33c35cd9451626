package dev.xps.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.agent.testsupport.Artifacts;
import dev.xps.agent.testsupport.Cgroup;
import dev.xps.agent.testsupport.Kernel;
import dev.xps.agent.testsupport.Sh;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** {@code xps} (bin/xps runs {@link Cli}): commands, outputs and exit codes 0/1/2. */
class CliTest {
    record Run(int code, String out, String err) {}

    private static Run xps(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Cli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void helpAndUsageErrors() {
        Run help = xps("--help");
        assertEquals(0, help.code());
        assertTrue(help.out().contains("load NAME ARTIFACT_DIR"), help.out());
        Run none = xps();
        assertEquals(2, none.code());
        assertTrue(none.err().contains("xps: no command"), none.err());
        assertEquals(2, xps("frobnicate").code());
        assertEquals(2, xps("map", "put", "x").code());
        assertEquals(2, xps("load", "x", "/tmp", "--bogus").code());
    }

    @Tag("kernel")
    @Test
    void loadMapStatsStatusUnload() throws Exception {
        Kernel.assumeBpf();
        Path artifact = Artifacts.variant("redis-get", "tcp port 6379", "tcp port 16398");
        Path pinRoot = Kernel.pinRoot();
        Path stateRoot = Files.createTempDirectory("xpsagent-state-");
        String[] roots = {"--pin-root", pinRoot.toString(), "--state-root", stateRoot.toString()};
        String name = Kernel.uniqueName();
        try (Cgroup cg = new Cgroup()) {
            // the resident reset server is ResetServerIT's subject (it needs the packaged jar)
            Run load = xps(cat(roots, "load", name, artifact.toString(), "--cgroup", cg.path.toString(),
                    "--no-reset-server"));
            assertEquals(0, load.code(), load.err());
            assertTrue(load.out().contains("entry redis: tcp port 16398, handlers [get, set, del]"), load.out());
            Run again = xps(cat(roots, "load", name + "b", artifact.toString(), "--cgroup", cg.path.toString()));
            assertEquals(1, again.code());
            assertTrue(again.err().contains("already claimed by context '" + name + "'"), again.err());

            assertEquals(0, xps(cat(roots, "map", "put", name, "cache", "foo", "bar")).code());
            assertEquals(0, xps(cat(roots, "map", "put", name, "cache", "0x00ff", "0x0102")).code());
            assertEquals("bar\n", xps(cat(roots, "map", "get", name, "cache", "foo")).out());
            assertEquals("0x0102\n", xps(cat(roots, "map", "get", name, "cache", "0x00ff")).out());
            Run dump = xps(cat(roots, "map", "dump", name, "cache"));
            assertEquals(List.of("0x00ff 0x0102", "foo bar"), dump.out().lines().sorted().toList());
            Run tooLong = xps(cat(roots, "map", "put", name, "cache", "k".repeat(33), "v"));
            assertEquals(1, tooLong.code());
            assertTrue(tooLong.err().contains("33 bytes is more than 32"), tooLong.err());
            assertEquals(0, xps(cat(roots, "map", "delete", name, "cache", "foo")).code());
            Run missing = xps(cat(roots, "map", "get", name, "cache", "foo"));
            assertEquals(1, missing.code());
            assertTrue(missing.err().contains("no key foo"), missing.err());
            assertEquals(1, xps(cat(roots, "map", "get", name, "nosuchmap", "foo")).code());

            Run stats = xps(cat(roots, "stats", name));
            assertEquals(0, stats.code(), stats.err());
            assertTrue(stats.out().contains("entry redis: {tx=0, drop=0, pass=0, reset=0, malformed=0, incomplete=0,"
                    + " fallback=0, unsynced=0}"), stats.out());
            Run status = xps(cat(roots, "status"));
            assertTrue(status.out().startsWith(name + ": redis-get.xps (cgroup " + cg.path + ")"), status.out());

            Run unload = xps(cat(roots, "unload", name));
            assertEquals(0, unload.code(), unload.err());
            assertTrue(unload.out().contains("3 handler slots of redis_handlers emptied"), unload.out());
            assertEquals(1, xps(cat(roots, "unload", name)).code());
            assertTrue(xps(cat(roots, "status")).out().startsWith("no contexts"));
        } finally {
            if (Files.exists(pinRoot.resolve(name))) {
                new Agent(pinRoot, stateRoot).deleteContext(name);
            }
            Kernel.deleteTree(pinRoot);
            Kernel.deleteTree(stateRoot);
        }
    }

    /** Without privileges the agent says so (exit 1) before touching anything. */
    @Tag("kernel")
    @Test
    void notRootIsNamed() throws Exception {
        Kernel.assumeBpf();
        String cp = Path.of(Cli.class.getProtectionDomain().getCodeSource().getLocation().toURI()) + ":"
                + Path.of(dev.xps.runtime.Bytes.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<String> cmd = new ArrayList<>(List.of("setpriv", "--bounding-set=-all", "--inh-caps=-all",
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--enable-native-access=ALL-UNNAMED",
                "-cp", cp, Cli.class.getName(), "--pin-root", Kernel.pinRoot().toString(), "load", "x",
                Artifacts.REPO.resolve("samples").toString(), "--cgroup", "/sys/fs/cgroup/unified"));
        Sh.Result r = Sh.run(Duration.ofSeconds(60), cmd);
        assertEquals(1, r.exitCode(), r.output());
        assertTrue(r.output().contains("xps: the XPS agent needs root, or the capabilities CAP_BPF"), r.output());
    }

    private static String[] cat(String[] a, String... b) {
        String[] out = new String[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
