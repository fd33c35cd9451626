package dev.xps.agent.p4;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.xps.agent.testsupport.Sh;
import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent against a real {@code simple_switch}: compiles slots.xps and udp-kv-fixed.xps for p4-bmv2,
 * their P4 with p4c-bm2-ss, starts the switch (pcap-file ports, its Thrift server on a free port), then
 * puts, updates, reads, deletes and reads the hit counters of entries through {@code simple_switch_CLI}.
 * Runs only where p4c-bm2-ss, simple_switch and simple_switch_CLI are on PATH; elsewhere it is skipped
 * with the reason printed, as backends-p4's Bmv2IntegrationTest is (neither tool can be installed on this
 * project's machines, so it has not run here).
 */
class P4SimpleSwitchIntegrationTest {
    static final List<String> TOOLS = List.of("p4c-bm2-ss", "simple_switch", "simple_switch_CLI");

    @TempDir
    Path dir;

    static boolean onPath(String tool) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String d : path.split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(d, tool))) {
                return true;
            }
        }
        return false;
    }

    static void assumeTools() {
        List<String> missing = TOOLS.stream().filter(t -> !onPath(t)).toList();
        String why = "BMv2 agent integration test skipped: " + String.join(", ", missing) + " not on PATH (p4lang's "
                + "p4c and behavioral-model; they cannot be installed from this machine's package registries)";
        if (!missing.isEmpty()) {
            System.out.println(why);
        }
        assumeTrue(missing.isEmpty(), why);
    }

    @Test
    void entriesRegistersAndCountersOnARunningSwitch() throws Exception {
        assumeTools();
        Path slotsDir = P4Artifacts.program("slots");
        Path kvDir = P4Artifacts.sample("udp-kv-fixed");
        try (RunningSwitch sw = RunningSwitch.start(dir.resolve("slots"), slotsDir, "slots")) {
            Bmv2Switch agent = new Bmv2Switch(P4Artifacts.entries(slotsDir, "slots"), new SimpleSwitchCli(sw.port));
            byte[] two = {2, 0, 0, 0};
            agent.put("slots", two, P4CommandsTest.u64(7));
            assertArrayEquals(P4CommandsTest.u64(7), agent.get("slots", two).orElseThrow());
            assertTrue(agent.delete("slots", two));
            assertArrayEquals(P4CommandsTest.u64(0), agent.get("slots", two).orElseThrow());
            assertEquals(0, agent.getStats("slots", two));

            assertTrue(agent.get("kv", two).isEmpty());
            assertThrows(Bmv2Switch.NoSuchEntry.class, () -> agent.update("kv", two, P4CommandsTest.u32(1)));
            agent.put("kv", two, P4CommandsTest.u32(5));
            assertArrayEquals(P4CommandsTest.u32(5), agent.get("kv", two).orElseThrow());
            agent.put("kv", two, P4CommandsTest.u32(6));  // an existing key: table_modify in both tables
            agent.update("kv", two, P4CommandsTest.u32(8));
            assertArrayEquals(P4CommandsTest.u32(8), agent.get("kv", two).orElseThrow());
            assertEquals(0, agent.getStats("kv", two));
            assertTrue(agent.delete("kv", two));
            assertFalse(agent.delete("kv", two));
            assertTrue(agent.get("kv", two).isEmpty());
        }
        try (RunningSwitch sw = RunningSwitch.start(dir.resolve("kv"), kvDir, "udp-kv-fixed")) {
            Bmv2Switch agent = new Bmv2Switch(P4Artifacts.entries(kvDir, "udp-kv-fixed"), new SimpleSwitchCli(sw.port));
            byte[] key = "user:0000000042.".getBytes(StandardCharsets.US_ASCII);
            agent.put("kv", key, P4CommandsTest.VALUE);
            assertArrayEquals(P4CommandsTest.VALUE, agent.get("kv", key).orElseThrow());
            assertEquals(0, agent.getStats("kv", key));
        }
    }

    /** p4c-bm2-ss compiles the program; simple_switch runs it with pcap-file ports until closed. */
    record RunningSwitch(Process process, int port) implements AutoCloseable {
        static RunningSwitch start(Path work, Path generated, String base) throws IOException, InterruptedException {
            Files.createDirectories(work);
            Path json = work.resolve(base + ".json");
            Sh.Result c = Sh.run(Duration.ofMinutes(5), "p4c-bm2-ss", "--std", "p4-16", "--arch", "v1model", "-o",
                    json.toString(), generated.resolve(base + ".p4").toString());
            assertEquals(0, c.exitCode(), () -> "p4c-bm2-ss rejects the generated P4:\n" + c.output());
            for (String pcap : List.of("p0_in.pcap", "p1_in.pcap")) {
                Files.write(work.resolve(pcap), new byte[] {(byte) 0xd4, (byte) 0xc3, (byte) 0xb2, (byte) 0xa1, 2, 0,
                        4, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, 0, 0, 1, 0, 0, 0});
            }
            int port;
            try (ServerSocket s = new ServerSocket(0)) {
                port = s.getLocalPort();
            }
            Process p = new ProcessBuilder("simple_switch", "--use-files", "3600", "-i", "0@p0", "-i", "1@p1",
                    "--thrift-port", Integer.toString(port), json.toString()).directory(work.toFile())
                    .redirectErrorStream(true).redirectOutput(work.resolve("switch.log").toFile()).start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (System.nanoTime() < deadline) {
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress("localhost", port), 500);
                    return new RunningSwitch(p, port);
                } catch (IOException notYet) {
                    if (!p.isAlive()) {
                        break;
                    }
                    Thread.sleep(200);
                }
            }
            p.destroyForcibly();
            throw new AssertionError("simple_switch did not open its Thrift port " + port + ":\n"
                    + Files.readString(work.resolve("switch.log")));
        }

        @Override
        public void close() throws InterruptedException {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }
}
