package dev.xps.agent.p4;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.agent.AgentException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The process plumbing of {@link SimpleSwitchCli}, against a fake {@code simple_switch_CLI}: an executable
 * that records its arguments and stdin per invocation and prints a canned stdout (and exit code). The
 * canned output has the shape the real CLI prints with piped input (a preamble, then the
 * {@code "RuntimeCmd: "} prompt before each command's output and once more at end of input), so the
 * split per command and the parsing of register and counter values are exercised end to end.
 */
class P4FakeCliProcessTest {
    static Bmv2Entries kvFixed;
    static Bmv2Entries slots;

    @TempDir
    Path dir;
    Path fake;

    @BeforeAll
    static void compile() throws IOException {
        kvFixed = P4Artifacts.entries(P4Artifacts.sample("udp-kv-fixed"), "udp-kv-fixed");
        slots = P4Artifacts.entries(P4Artifacts.program("slots"), "slots");
    }

    @BeforeEach
    void writeFake() throws IOException {
        fake = dir.resolve("simple_switch_CLI");
        Files.writeString(fake, """
                #!/bin/bash
                d="$(dirname "$0")"
                n=$(( $(cat "$d/count" 2>/dev/null || echo 0) + 1 ))
                echo "$n" > "$d/count"
                printf '%s\\n' "$@" > "$d/args.$n"
                cat > "$d/stdin.$n"
                cat "$d/out.$n"
                [ -f "$d/exit.$n" ] && exit "$(cat "$d/exit.$n")"
                exit 0
                """);
        Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    /** What the n-th invocation prints: the preamble, then each output after a prompt, then the last prompt. */
    void canned(int n, String... outputs) throws IOException {
        StringBuilder s = new StringBuilder("Obtaining JSON from switch...\nDone\n"
                + "Control utility for runtime P4 table manipulation\n");
        for (String o : outputs) {
            s.append(SimpleSwitchCli.PROMPT).append(o == null ? "" : o);
        }
        s.append(SimpleSwitchCli.PROMPT).append('\n');
        Files.writeString(dir.resolve("out." + n), s);
    }

    String stdin(int n) throws IOException {
        return Files.readString(dir.resolve("stdin." + n), StandardCharsets.UTF_8);
    }

    SimpleSwitchCli cli() {
        return new SimpleSwitchCli(fake.toString(), "127.0.0.1", 9099, Duration.ofSeconds(20));
    }

    @Test
    void aHashMapEntryAndItsHitsThroughTheProcess() throws IOException {
        String table = "xps_ingress.h_get.kv_1";
        canned(1, "Dumping entry 0x2\nMatch key:\n* kv_1_key             : EXACT     757365723a303030303030303034322e\n"
                + "Action entry: " + table + "_hit - 0000000000000007\n");
        canned(2, "Dumping entry 0x2\nMatch key:\n* kv_1_key             : EXACT     757365723a303030303030303034322e\n"
                + "Action entry: " + table + "_hit - 0000000000000007\n");
        canned(3, "this is the direct counter for table " + table + "\n" + table + "_hits[2]= (84 bytes, 2 packets)\n");
        Bmv2Switch sw = new Bmv2Switch(kvFixed, cli());
        byte[] key = "user:0000000042.".getBytes(StandardCharsets.US_ASCII);
        assertArrayEquals(new byte[] {7, 0, 0, 0, 0, 0, 0, 0}, sw.get("kv", key).orElseThrow());
        assertEquals(2, sw.getStats("kv", key));
        assertEquals(List.of("--thrift-ip", "127.0.0.1", "--thrift-port", "9099"),
                Files.readAllLines(dir.resolve("args.1")));
        String query = "table_dump_entry_from_key " + table + " 0x757365723a303030303030303034322e\n";
        assertEquals(query, stdin(1));
        assertEquals(query, stdin(2));
        assertEquals("counter_read " + table + "_hits 2\n", stdin(3));
    }

    @Test
    void registerValuesThroughTheProcess() throws IOException {
        canned(1, "map_slots[3]= 1234567890123\n");
        canned(2, "");
        Bmv2Switch sw = new Bmv2Switch(slots, cli());
        byte[] three = {3, 0, 0, 0};
        assertArrayEquals(CommandsTestBytes.u64(1234567890123L), sw.get("slots", three).orElseThrow());
        sw.put("slots", three, CommandsTestBytes.u64(42));
        assertEquals("register_read map_slots 3\n", stdin(1));
        assertEquals("register_write map_slots 3 42\n", stdin(2));
    }

    @Test
    void aBatchOfManyCommandsIsOneProcessWithEveryLine() throws IOException {
        int n = 500;
        List<Map.Entry<byte[], byte[]>> kvs = new ArrayList<>();
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < n; i++) {
            kvs.add(Map.entry(new byte[] {(byte) (i % 16), 0, 0, 0}, CommandsTestBytes.u64(i)));
            lines.append("register_write map_slots ").append(i % 16).append(' ').append(i).append('\n');
        }
        canned(1, new String[n]);
        new Bmv2Switch(slots, cli()).putAll("slots", kvs);
        assertEquals(lines.toString(), stdin(1));
        assertEquals("1", Files.readString(dir.resolve("count")).strip(), "one process for the batch");
    }

    @Test
    void aCliThatCannotConnectIsAnErrorWithItsMessage() throws IOException {
        Files.writeString(dir.resolve("out.1"), "Could not connect to thrift client on port 9099\n"
                + "Make sure the switch is running and that you have the right port\n");
        Files.writeString(dir.resolve("exit.1"), "1");
        AgentException e = assertThrows(AgentException.class,
                () -> new Bmv2Switch(slots, cli()).get("slots", new byte[] {1, 0, 0, 0}));
        assertTrue(e.getMessage().contains("exited 1") && e.getMessage().contains("Could not connect"), e.getMessage());
    }

    @Test
    void outputThatDoesNotMatchTheCommandsIsAnErrorNotAGuess() throws IOException {
        // two prompts for one command: fine; one prompt (the CLI stopped early): an error
        Files.writeString(dir.resolve("out.1"), "Control utility for runtime P4 table manipulation\n"
                + SimpleSwitchCli.PROMPT + "map_slots[1]= 5\n");
        AgentException e = assertThrows(AgentException.class,
                () -> new Bmv2Switch(slots, cli()).get("slots", new byte[] {1, 0, 0, 0}));
        assertTrue(e.getMessage().contains("1 prompts for 1 commands"), e.getMessage());
    }

    @Test
    void aMissingExecutableIsAnError() {
        SimpleSwitchCli missing = new SimpleSwitchCli(dir.resolve("nothing-here").toString(), "localhost", 9090,
                Duration.ofSeconds(5));
        AgentException e = assertThrows(AgentException.class, () -> missing.run(List.of("register_read map_slots 1")));
        assertTrue(e.getMessage().startsWith("cannot run"), e.getMessage());
    }

    /** Byte helpers shared with the command tests. */
    static final class CommandsTestBytes {
        static byte[] u64(long v) {
            return P4CommandsTest.u64(v);
        }
    }
}
