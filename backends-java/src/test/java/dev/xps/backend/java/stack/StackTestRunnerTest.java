package dev.xps.backend.java.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.diag.SourceFile;
import dev.xps.compiler.driver.Compiler;
import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.target.Backend;
import dev.xps.compiler.target.Backends;
import dev.xps.compiler.target.TestOutcome;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The java-stack target's test runner: registered, and it tells right from wrong over real sockets. */
class StackTestRunnerTest {
    private static final String SOURCE = """
            map m : hash<bytes[8], bytes[8]> capacity 16;
            handler h on tcp port 7000 {
              decode { expect "GET "; key = until "\\n" max 8; } else drop;
              value = lookup m[key] else pass;
              if value == "reset" { return reset; }
              encode { value "\\n" }
              return tx;
            }
            handler u on udp port 7001 {
              decode { expect "GET "; key = until "\\n" max 8; } else drop;
              value = lookup m[key] else pass;
              encode { value }
              return tx;
            }
            test "tx ok" { m["k"] = "v"; send to h "GET k\\n"; expect tx "v\\n"; }
            test "tx wrong bytes" { m["k"] = "v"; send to h "GET k\\n"; expect tx "w\\n"; }
            test "pass ok" { send to h "GET x\\n"; expect pass; }
            test "pass is not drop" { send to h "GET x\\n"; expect drop; }
            test "drop ok" { send to h "PUT x\\n"; expect drop; }
            test "reset ok" { m["r"] = "reset"; send to h "GET r\\n"; expect reset; }
            test "reset is not tx" { m["r"] = "reset"; send to h "GET r\\n"; expect tx "reset\\n"; }
            test "udp tx ok" { m["k"] = "v"; send to u "GET k\\n"; expect tx "v"; }
            test "udp pass ok" { send to u "GET z\\n"; expect pass; }
            test "udp drop ok" { send to u "nope"; expect drop; }
            """;

    @Test
    void theBackendIsRegistered() {
        Backend b = Backends.all().stream().filter(x -> x.name().equals("java-stack")).findFirst().orElseThrow();
        assertTrue(b.testRunner().isPresent());
        assertTrue(b.testRunner().get().unavailableReason().isEmpty());
    }

    @Test
    void outcomesMatchWhatTheWireShows() {
        Diagnostics diagnostics = new Diagnostics();
        IrModule module = Compiler.compile(new SourceFile("t.xps", SOURCE), diagnostics).orElseThrow(
                () -> new AssertionError(diagnostics.toString()));
        List<TestOutcome> outcomes = new StackTestRunner().run(module, List.of());
        Map<String, TestOutcome> byName = outcomes.stream().collect(Collectors.toMap(TestOutcome::testName,
                Function.identity()));
        assertEquals(10, outcomes.size());
        for (String ok : List.of("tx ok", "pass ok", "drop ok", "reset ok", "udp tx ok", "udp pass ok", "udp drop ok")) {
            assertTrue(byName.get(ok).passed(), ok + ": " + byName.get(ok).detail());
        }
        TestOutcome wrongBytes = byName.get("tx wrong bytes");
        assertFalse(wrongBytes.passed());
        assertTrue(wrongBytes.detail().contains("got      tx \"v\\n\""), wrongBytes.detail());
        TestOutcome notDrop = byName.get("pass is not drop");
        assertFalse(notDrop.passed());
        assertTrue(notDrop.detail().contains("got      pass"), notDrop.detail());
        TestOutcome notTx = byName.get("reset is not tx");
        assertFalse(notTx.passed());
        assertTrue(notTx.detail().contains("got      reset"), notTx.detail());
    }
}
