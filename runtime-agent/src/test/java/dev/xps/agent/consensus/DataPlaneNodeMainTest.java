package dev.xps.agent.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.agent.Cli;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The entry points {@code xps consensus-node} and {@code xps consensus-readback} (bin/xps): usage errors exit 2
 * with the message and the usage text, failures exit 1 with one line; neither prints a stack trace. Nothing here
 * touches the kernel.
 */
class DataPlaneNodeMainTest {
    static final String M = "10.1.0.1,10.1.0.2,10.1.0.3";
    static final String MACS = "02:00:00:00:00:01,02:00:00:00:00:02,02:00:00:00:00:03";

    record Run(int code, String out, String err) {}

    static Run xps(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Cli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static String[] node(String... rest) {
        List<String> a = new ArrayList<>(List.of("consensus-node", "art", "--members", M, "--macs", MACS,
                "--index", "0", "--interface", "eth9"));
        a.addAll(List.of(rest));
        return a.toArray(String[]::new);
    }

    static void assertUsage(Run r, String message, String usageOf) {
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains(message), "message '" + message + "' in: " + r.err());
        assertTrue(r.err().contains("usage: xps " + usageOf), r.err());
        assertNoStackTrace(r);
    }

    static void assertNoStackTrace(Run r) {
        for (String s : List.of(r.out(), r.err())) {
            assertFalse(s.contains("Exception") || s.contains("\tat "), "no stack trace: " + s);
        }
    }

    @Test
    void argumentErrorsExitTwoWithTheUsage() {
        assertUsage(xps("consensus-node"), "missing ARTIFACT_DIR", "consensus-node");
        assertUsage(xps("consensus-node", "art"), "--members is required", "consensus-node");
        assertUsage(xps("consensus-node", "art", "--members", M), "--macs is required", "consensus-node");
        assertUsage(xps("consensus-node", "art", "--members", M, "--macs", MACS, "--interface", "eth0"),
                "--index is required", "consensus-node");
        assertUsage(xps("consensus-node", "art", "--members", M, "--macs", MACS, "--index", "1"),
                "--interface is required", "consensus-node");
        assertUsage(xps(node("--bogus", "1")), "unknown option --bogus", "consensus-node");
        assertUsage(xps(node("--view")), "missing value for --view", "consensus-node");
        assertUsage(xps(node("--log-capacity", "lots")), "--log-capacity needs a number, got 'lots'",
                "consensus-node");
        assertUsage(xps(node("--xdp-mode", "offload")), "--xdp-mode must be native, generic or auto",
                "consensus-node");
        assertUsage(xps(node("--retransmit-ms", "0")), "--retransmit-ms must be 1..60000", "consensus-node");
        assertUsage(xps(node("second-artifact")), "one ARTIFACT_DIR only", "consensus-node");
        assertUsage(xps("consensus-node", "art", "--members", "10.1.0.1,nothere", "--macs", MACS, "--index", "0",
                "--interface", "eth0"), "not an IPv4 address: 'nothere'", "consensus-node");
        assertUsage(xps("consensus-node", "art", "--members", M, "--macs", "02:00:00:00:00:01,zz", "--index", "0",
                "--interface", "eth0"), "not a MAC address", "consensus-node");
        assertUsage(xps("consensus-node", "art", "--members", M, "--macs", "02:00:00:00:00:01", "--index", "0",
                "--interface", "eth0"), "--macs lists 1 addresses, --members 3", "consensus-node");
        assertUsage(xps("consensus-node", "art", "--members", M, "--macs", MACS, "--index", "3",
                "--interface", "eth0"), "--index must be 0..2, got 3", "consensus-node");

        assertUsage(xps("consensus-node", "art", "--unload"), "--unload needs --pin DIR", "consensus-node");
        assertUsage(xps(node("--pin", "/sys/fs/bpf/xps/vr", "--unload")), "--unload takes only ARTIFACT_DIR, --pin DIR",
                "consensus-node");
        assertUsage(xps(node("--pin")), "missing value for --pin", "consensus-node");

        assertUsage(xps("consensus-readback"), "missing ARTIFACT_DIR", "consensus-readback");
        assertUsage(xps("consensus-readback", "art", "--entries", "0"), "--entries must be 1..", "consensus-readback");
        assertUsage(xps("consensus-readback", "art", "--reps", "x"), "--reps needs a number", "consensus-readback");
        assertUsage(xps("consensus-readback", "art", "--what", "1"), "unknown option --what", "consensus-readback");
    }

    @Test
    void helpPrintsTheUsageAndTheAgentsUsageNamesTheCommands() {
        Run r = xps("consensus-node", "--help");
        assertEquals(0, r.code());
        assertTrue(r.out().startsWith("usage: xps consensus-node ARTIFACT_DIR"), r.out());
        Run rb = xps("consensus-readback", "-h");
        assertEquals(0, rb.code());
        assertTrue(rb.out().startsWith("usage: xps consensus-readback ARTIFACT_DIR"), rb.out());
        Run all = xps("--help");
        assertTrue(all.out().contains("consensus-node ARTIFACT_DIR") && all.out().contains("consensus-readback"),
                all.out());
    }

    @Test
    void aMissingOrAmbiguousArtifactFailsWithOneLine(@TempDir Path dir) throws Exception {
        Run missing = xps(node()); // "art" does not exist here
        assertEquals(1, missing.code(), missing.err());
        assertEquals("xps: consensus-node: no such artifact directory: art", missing.err().strip());
        assertNoStackTrace(missing);

        Run empty = xps("consensus-readback", dir.toString());
        assertEquals(1, empty.code(), empty.err());
        assertTrue(empty.err().contains("no *.manifest.json under " + dir), empty.err());
        assertNoStackTrace(empty);

        Path ebpf = Files.createDirectories(dir.resolve("ebpf"));
        Files.writeString(Files.createDirectories(ebpf.resolve("a")).resolve("a.manifest.json"), "{}");
        Files.writeString(Files.createDirectories(ebpf.resolve("b")).resolve("b.manifest.json"), "{}");
        Run two = xps("consensus-readback", dir.toString());
        assertEquals(1, two.code(), two.err());
        assertTrue(two.err().contains("2 *.manifest.json under " + dir), two.err());
        assertNoStackTrace(two);

        assertEquals(ebpf.resolve("a").resolve("a.manifest.json"),
                DataPlaneNodeMain.manifest(ebpf.resolve("a")), "a directory with one manifest");
        assertEquals(ebpf.resolve("b").resolve("b.manifest.json"),
                DataPlaneNodeMain.manifest(ebpf.resolve("b").resolve("b.manifest.json")), "the manifest itself");
    }

    @Test
    void parseBuildsTheGroup() {
        DataPlaneNodeMain.Args a = DataPlaneNodeMain.parse(List.of("art", "--members", M, "--macs", MACS, "--index",
                "2", "--interface", "veth0", "--view", "1", "--log-capacity", "65_536", "--xdp-mode", "generic"));
        var g = a.group(9000);
        assertEquals(3, g.size());
        assertEquals(1, g.leader());
        assertEquals("10.1.0.3", g.members().get(2).address().getHostAddress());
        assertEquals(3, g.members().get(2).mac()[5]);
        assertEquals(65_536, a.logCapacity());
        assertEquals(dev.xps.agent.bpf.XdpMode.GENERIC, a.xdpMode());
        assertEquals(null, a.pin());
        DataPlaneNodeMain.Args pinned = DataPlaneNodeMain.parse(List.of("art", "--members", M, "--macs", MACS,
                "--index", "0", "--interface", "veth0", "--pin", "/sys/fs/bpf/xps/vr-m0"));
        assertEquals(Path.of("/sys/fs/bpf/xps/vr-m0"), pinned.pin());
        assertFalse(pinned.unload());
        DataPlaneNodeMain.Args unload = DataPlaneNodeMain.parse(List.of("art", "--pin", "/sys/fs/bpf/xps/vr-m0",
                "--unload"));
        assertTrue(unload.unload());
        assertFalse(a.supervised(), "no supervisor unless asked");
    }

    /** {@link #node}'s arguments without the command name, for {@link DataPlaneNodeMain#parse}. */
    private static List<String> parseArgs(String... rest) {
        List<String> all = List.of(node(rest));
        return all.subList(1, all.size());
    }

    @Test
    void superviseTakesACheckpointPeriodAndAStallLimitAndRejoinIsAFlag() {
        DataPlaneNodeMain.Args plain = DataPlaneNodeMain.parse(parseArgs("--supervise"));
        assertTrue(plain.supervised());
        assertEquals(java.time.Duration.ofSeconds(1), plain.checkpointEvery());
        assertEquals(java.time.Duration.ZERO, plain.stallLimit(), "stall detection is off by default");
        DataPlaneNodeMain.Args tuned = DataPlaneNodeMain.parse(parseArgs("--supervise", "--checkpoint-ms", "250",
                "--stall-ms", "2000"));
        assertEquals(java.time.Duration.ofMillis(250), tuned.checkpointEvery());
        assertEquals(java.time.Duration.ofSeconds(2), tuned.stallLimit());
        assertUsage(xps(node("--stall-ms", "500")), "--stall-ms needs --supervise", "consensus-node");
        assertUsage(xps(node("--checkpoint-ms", "500")), "--checkpoint-ms needs --supervise", "consensus-node");
        assertUsage(xps(node("--supervise", "--checkpoint-ms", "0")), "--checkpoint-ms must be 1..3600000",
                "consensus-node");
        assertUsage(xps(node("--supervise", "--on-failure", "resume")), "--supervise and --on-failure resume exclude",
                "consensus-node");
        assertTrue(DataPlaneNodeMain.parse(parseArgs("--rejoin")).rejoin());
        assertFalse(DataPlaneNodeMain.parse(parseArgs()).rejoin());
        assertUsage(xps("consensus-node", "art", "--pin", "/sys/fs/bpf/x", "--unload", "--rejoin"),
                "--rejoin and --unload exclude each other", "consensus-node");
    }
}
