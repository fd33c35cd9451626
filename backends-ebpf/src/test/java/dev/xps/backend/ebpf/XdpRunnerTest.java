package dev.xps.backend.ebpf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.target.GeneratedFile;
import dev.xps.compiler.target.TestOutcome;
import dev.xps.testing.SampleFiles;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The kernel test runner notices wrong answers: a test that expects the wrong thing fails, and says why. */
class XdpRunnerTest {
    @BeforeAll
    static void kernel() {
        KernelAssumptions.requireKernel();
    }

    static List<TestOutcome> run(String text) {
        IrModule module = SampleFiles.compile("t.xps", text);
        Diagnostics d = new Diagnostics();
        List<GeneratedFile> files = new EbpfBackend().generate(module, d);
        assertFalse(d.hasErrors(), () -> d.sorted().toString());
        return new EbpfTestRunner().run(module, files);
    }

    private static final String ECHO = """
            handler echo on udp port 7 {
              decode { expect "E"; n = u8; x = bytes(n) max 16; } else drop;
              encode { "e" x }
              return tx;
            }
            """;

    @Test
    void aRightExpectationPasses() {
        List<TestOutcome> o = run(ECHO + """
                test "echo" { send "E" x"03" "abc"; expect tx "eabc"; }
                """);
        assertTrue(o.getFirst().passed(), o.getFirst().detail());
    }

    @Test
    void aWrongResponseFailsWithBothResponses() {
        List<TestOutcome> o = run(ECHO + """
                test "echo" { send "E" x"03" "abc"; expect tx "eabd"; }
                """);
        assertFalse(o.getFirst().passed());
        assertTrue(o.getFirst().detail().contains("expected tx \"eabd\""), o.getFirst().detail());
        assertTrue(o.getFirst().detail().contains("got      tx \"eabc\""), o.getFirst().detail());
    }

    @Test
    void aWrongVerdictFails() {
        List<TestOutcome> o = run(ECHO + """
                test "malformed" { send "X"; expect pass; }
                """);
        assertFalse(o.getFirst().passed());
        assertTrue(o.getFirst().detail().contains("got      drop (XDP_DROP)"), o.getFirst().detail());
    }

    @Test
    void everyTestRuns() {
        List<TestOutcome> o = run(ECHO + """
                test "a" { send "E" x"00"; expect tx "e"; }
                test "b" { send "E" x"11"; expect drop; }
                test "c" { send "E" x"05" "ab"; expect pass; }
                """);
        assertEquals(3, o.size());
        o.forEach(t -> assertTrue(t.passed(), t.testName() + ": " + t.detail()));
    }
}
