package dev.xps.backend.nfp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.compiler.diag.Diagnostic;
import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.diag.Severity;
import dev.xps.compiler.target.CapabilityChecker;
import dev.xps.testing.SampleFiles;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What nfp refuses: the diagnostic names the construct, the line and the target. */
class NfpRefusalTest {
    private static List<String> errors(String name, String source) {
        Diagnostics d = new Diagnostics();
        boolean ok = CapabilityChecker.check(SampleFiles.compile(name, source), new NfpBackend(), d);
        assertFalse(ok);
        return d.sorted().stream().filter(x -> x.severity() == Severity.ERROR)
                .map(x -> x.location().line() + ": " + x.message()).toList();
    }

    @Test
    void tcpSamplesAreRefusedNamingTheLine() {
        for (String sample : List.of("redis-get.xps", "http-block.xps", "redis-cluster-bus.xps")) {
            Diagnostics d = new Diagnostics();
            assertFalse(CapabilityChecker.check(SampleFiles.compile(SampleFiles.named(sample)), new NfpBackend(), d));
            Diagnostic first = d.sorted().stream().filter(x -> x.message().equals(
                    "target 'nfp' cannot express a TCP handler")).findFirst().orElseThrow();
            assertTrue(first.location().line() > 0, sample);
            assertEquals(sample, first.location().file());
        }
    }

    @Test
    void aTcpHandler() {
        assertEquals(List.of("1: target 'nfp' cannot express a TCP handler"), errors("t.xps",
                "handler h on tcp port 80 { return pass; }\ntest \"x\" { send \"a\"; expect pass; }\n"));
    }

    @Test
    void aResponseLargerThanADatagram() {
        List<String> e = errors("t.xps", """
                map m : hash<u32, bytes[1024]> capacity 4;
                handler h on udp port 80 {
                  v = lookup m[1] else pass;
                  encode { v v }
                  return tx;
                }
                """);
        assertEquals(List.of("2: the response of handler 'h' can be 2048 bytes but target 'nfp' allows at most 1472"), e);
    }

    @Test
    void keysLargerThan256Bytes() {
        List<String> e = errors("t.xps", "map m : hash<bytes[300], u8> capacity 4;\n"
                + "handler h on udp port 80 { return pass; }\n");
        assertEquals(List.of("1: key of map 'm' can be 300 bytes but target 'nfp' allows at most 256"), e);
    }
}
