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

    /** The whole diagnostic: what is refused and why (the host's sequence numbers). */
    static final String TCP = "target 'nfp' cannot express a TCP handler: a NIC that answers or drops bytes of a "
            + "stream the host owns would break the host's TCP sequence numbers";

    @Test
    void tcpSamplesAreRefusedNamingTheLine() {
        for (String sample : List.of("redis-get.xps", "http-block.xps", "redis-cluster-bus.xps")) {
            Diagnostics d = new Diagnostics();
            assertFalse(CapabilityChecker.check(SampleFiles.compile(SampleFiles.named(sample)), new NfpBackend(), d));
            Diagnostic first = d.sorted().stream().filter(x -> x.message().equals(TCP)).findFirst().orElseThrow();
            assertTrue(first.location().line() > 0, sample);
            assertEquals(sample, first.location().file());
        }
    }

    @Test
    void aTcpHandler() {
        assertEquals(List.of("1: " + TCP), errors("t.xps",
                "handler h on tcp port 80 { return pass; }\ntest \"x\" { send \"a\"; expect pass; }\n"));
    }

    @Test
    void theReasonIsPartOfTheCapabilities() {
        assertEquals(java.util.Optional.of(NfpBackend.TCP_REASON),
                new NfpBackend().capabilities().reason(dev.xps.compiler.target.Feature.TCP));
        assertTrue(NfpBackend.TCP_REASON.contains("sequence numbers") && NfpBackend.TCP_REASON.contains("host owns"));
    }

    @Test
    void whatP4BmV2RefusesTheNicExpresses() {
        // Hash-map writes, bytes values, keys shorter than declared and encodes after run-time lengths are C here.
        Diagnostics d = new Diagnostics();
        boolean ok = CapabilityChecker.check(SampleFiles.compile("t.xps", """
                map m : hash<bytes[8], bytes[16]> capacity 4;
                handler h on udp port 80 {
                  decode { k = u8; key = bytes[4]; } else drop;
                  update m[key] = "value";
                  v = lookup m["abc"] else pass;
                  if k == 1 { encode { "a" } } else { encode { "bc" } }
                  encode { v }
                  encode { "!" }
                  delete m[key];
                  return tx;
                }
                """), new NfpBackend(), d);
        assertTrue(ok, () -> d.sorted().toString());
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
