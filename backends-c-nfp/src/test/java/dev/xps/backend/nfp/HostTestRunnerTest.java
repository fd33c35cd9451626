package dev.xps.backend.nfp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.target.GeneratedFile;
import dev.xps.compiler.target.TestOutcome;
import dev.xps.testing.SampleFiles;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The host runner reports failures in the source's terms, and a broken build as a failure of every test. */
class HostTestRunnerTest {
    private final NfpBackend backend = new NfpBackend();

    @BeforeEach
    void gcc() {
        assumeTrue(backend.testRunner().orElseThrow().unavailableReason().isEmpty(), "gcc is not available");
    }

    private List<TestOutcome> run(String source) {
        IrModule module = SampleFiles.compile("t.xps", source);
        return backend.testRunner().orElseThrow().run(module, backend.generate(module, new Diagnostics()));
    }

    @Test
    void aWrongResponseFailsWithExpectedAndGot() {
        List<TestOutcome> o = run("""
                map m : hash<u8, bytes[4]> capacity 4;
                handler h on udp port 9 {
                  decode { k = u8; } else drop;
                  v = lookup m[k] else pass;
                  encode { "=" v }
                  return tx;
                }
                test "right" { m[1] = "ab"; send x"01"; expect tx "=ab"; }
                test "wrong" { m[1] = "ab"; send x"01"; expect tx "=ac"; }
                test "wrong verdict" { send x"02"; expect drop; }
                test "wrong map" { m[1] = "ab"; send x"01"; expect tx "=ab"; expect m[1] == "zz"; }
                """);
        assertEquals(4, o.size());
        assertTrue(o.get(0).passed(), o.get(0).detail());
        assertFalse(o.get(1).passed());
        assertEquals("t.xps:9: sent \"\\x01\"\n  expected tx \"=ac\"\n  got      tx \"=ab\"", o.get(1).detail());
        assertFalse(o.get(2).passed());
        assertEquals("t.xps:10: sent \"\\x02\"\n  expected drop\n  got      pass", o.get(2).detail());
        assertFalse(o.get(3).passed());
        assertEquals("t.xps:11: expected m[\"\\x01\"] == \"zz\", got \"ab\"", o.get(3).detail());
    }

    @Test
    void generatedCodeThatDoesNotCompileFailsEveryTest() {
        IrModule module = SampleFiles.compile("t.xps", """
                handler h on udp port 9 { return drop; }
                test "a" { send "x"; expect drop; }
                test "b" { send "y"; expect drop; }
                """);
        List<GeneratedFile> files = new ArrayList<>();
        for (GeneratedFile f : backend.generate(module, new Diagnostics())) {
            files.add(f.relativePath().endsWith(".c") ? GeneratedFile.text(f.relativePath(),
                    new String(f.content(), StandardCharsets.UTF_8) + "\nthis is not C;\n") : f);
        }
        List<TestOutcome> o = backend.testRunner().orElseThrow().run(module, files);
        assertEquals(2, o.size());
        assertTrue(o.stream().noneMatch(TestOutcome::passed));
        assertTrue(o.get(0).detail().contains("does not compile with gcc"), o.get(0).detail());
    }
}
