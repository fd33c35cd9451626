package dev.xps.backend.p4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.diag.Severity;
import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.target.CapabilityChecker;
import dev.xps.compiler.target.GeneratedFile;
import dev.xps.testing.SampleFiles;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What p4-bmv2 refuses, and how: every diagnostic names the construct, the line and the target;
 * nothing is generated. Capability-model refusals come from CapabilityChecker, the finer ones
 * (which the model cannot say) from the backend's own check before generating.
 */
class Bmv2RefusalTest {
    /** The diagnostics of the capability check and, if that passes, of generate(): "line: message". */
    private static List<String> errors(IrModule module) {
        Diagnostics d = new Diagnostics();
        Bmv2Backend backend = new Bmv2Backend();
        if (CapabilityChecker.check(module, backend, d)) {
            List<GeneratedFile> files = backend.generate(module, d);
            assertTrue(files.isEmpty() || !d.hasErrors(), "files generated despite errors");
            if (!d.hasErrors()) {
                return List.of();
            }
            assertTrue(files.isEmpty(), "a refused module must produce no files");
        }
        return d.sorted().stream().filter(x -> x.severity() == Severity.ERROR)
                .map(x -> x.location().file() + ":" + x.location().line() + ": " + x.message()).toList();
    }

    private static List<String> errors(String source) {
        return errors(SampleFiles.compile("t.xps", source));
    }

    @Test
    void samplesRefusedNamingConstructLineAndTarget() {
        Map<String, String> expected = Map.of(
                "redis-get.xps", "redis-get.xps:14: target 'p4-bmv2' cannot express a TCP handler",
                "http-block.xps", "http-block.xps:8: target 'p4-bmv2' cannot express a TCP handler",
                "redis-cluster-bus.xps", "redis-cluster-bus.xps:12: target 'p4-bmv2' cannot express a TCP handler",
                "memcached-udp.xps", "memcached-udp.xps:7: key of map 'mc' can be 250 bytes but target 'p4-bmv2' "
                        + "allows at most 64",
                "raft-append.xps", "raft-append.xps:12: target 'p4-bmv2' cannot express a log map",
                "kv-replicated.xps", "kv-replicated.xps:9: value of map 'kv' can be 512 bytes but target 'p4-bmv2' "
                        + "allows at most 8");
        for (Map.Entry<String, String> e : expected.entrySet()) {
            List<String> errors = errors(SampleFiles.compile(SampleFiles.named(e.getKey())));
            assertFalse(errors.isEmpty(), e.getKey());
            assertTrue(errors.contains(e.getValue()), e.getKey() + ": " + errors);
        }
    }

    @Test
    void textParsingIsRefusedConstructByConstruct() {
        List<String> e = errors(SampleFiles.compile(SampleFiles.named("memcached-udp.xps")));
        assertTrue(e.contains("memcached-udp.xps:14: target 'p4-bmv2' cannot express a variable-length field (bytes(n), "
                + "until, skip(n), skip_until)"), e::toString);
        assertTrue(e.contains("memcached-udp.xps:17: target 'p4-bmv2' cannot express ASCII decimal numbers (decimal)"),
                e::toString);
    }

    @Test
    void samplesThatFitAreAccepted() {
        assertEquals(List.of(), errors(SampleFiles.compile(SampleFiles.named("timestamp-server.xps"))));
        assertEquals(List.of(), errors(SampleFiles.compile(SampleFiles.named("udp-kv-fixed.xps"))));
    }

    @Test
    void bytesValuedMaps() {
        assertEquals(List.of("t.xps:1: target 'p4-bmv2' cannot express a map with bytes values ('m'): a table action "
                + "parameter or a register holds an integer"), errors("""
                map m : hash<u32, bytes[4]> capacity 4;
                handler h on udp port 80 { return pass; }
                """));
    }

    @Test
    void writesToHashMaps() {
        assertEquals(List.of("t.xps:4: target 'p4-bmv2' cannot express a write to hash map 'm' (P4 tables are written "
                + "by the control plane only)", "t.xps:5: target 'p4-bmv2' cannot express a delete from hash map 'm' "
                + "(P4 tables are written by the control plane only)"), errors("""
                map m : hash<u32, u32> capacity 4;
                handler h on udp port 80 {
                  decode { k = u32be; } else drop;
                  update m[k] = 1;
                  delete m[k + 1];
                  return pass;
                }
                """));
    }

    @Test
    void keysOfTheWrongLength() {
        assertEquals(List.of("t.xps:4: target 'p4-bmv2' cannot express a key of map 'm' that is not exactly 8 bytes "
                + "(a table key has a fixed width)"), errors("""
                map m : hash<bytes[8], u32> capacity 4;
                handler h on udp port 80 {
                  decode { k = bytes[4]; } else drop;
                  v = lookup m[k] else pass;
                  return pass;
                }
                """));
    }

    @Test
    void encodesAtPositionsNotKnownAtCompileTime() {
        assertEquals(List.of("t.xps:4: target 'p4-bmv2' cannot express an encode after branches that encode different "
                + "lengths (the response is built at fixed positions)"), errors("""
                handler h on udp port 80 {
                  decode { k = u8; } else drop;
                  if k == 1 { encode { "a" } } else { encode { "bc" } }
                  encode { "d" }
                  return tx;
                }
                """));
    }

    @Test
    void branchesThatReturnDoNotMakePositionsUnknown() {
        assertEquals(List.of(), errors("""
                handler h on udp port 80 {
                  decode { k = u8; } else drop;
                  if k == 1 { encode { "abc" } return tx; }
                  encode { "d" }
                  return tx;
                }
                """));
    }
}
