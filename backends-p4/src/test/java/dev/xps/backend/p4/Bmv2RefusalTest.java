package dev.xps.backend.p4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.diag.Severity;
import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.target.CapabilityChecker;
import dev.xps.compiler.target.Feature;
import dev.xps.compiler.target.GeneratedFile;
import dev.xps.testing.SampleFiles;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What p4-bmv2 refuses, and how: every diagnostic names the construct, the position and the target,
 * and nothing is generated. All refusals come from the capability model (CapabilityChecker against
 * {@link Bmv2Backend#capabilities()}); the backend itself refuses nothing, so {@code --target all}
 * skips this target for every one of them.
 */
class Bmv2RefusalTest {
    /** The diagnostics of the capability check and, if that passes, of generate(): "file:line:col: message". */
    private static List<String> errors(IrModule module) {
        Diagnostics d = new Diagnostics();
        Bmv2Backend backend = new Bmv2Backend();
        if (CapabilityChecker.check(module, backend, d)) {
            List<GeneratedFile> files = backend.generate(module, d);
            assertFalse(d.hasErrors(), () -> "the backend reported errors of its own: " + d.sorted());
            assertFalse(files.isEmpty(), "an accepted module must produce files");
            return List.of();
        }
        return d.sorted().stream().filter(x -> x.severity() == Severity.ERROR)
                .map(x -> x.location() + ": " + x.message()).toList();
    }

    private static List<String> errors(String source) {
        return errors(SampleFiles.compile("t.xps", source));
    }

    private static final String TCP = "target 'p4-bmv2' cannot express a TCP handler: a switch that answers or drops "
            + "bytes of a stream the host owns would break the host's TCP sequence numbers";

    @Test
    void samplesRefusedNamingConstructLineAndTarget() {
        Map<String, String> expected = Map.of(
                "redis-get.xps", "redis-get.xps:14:1: " + TCP,
                "http-block.xps", "http-block.xps:8:1: " + TCP,
                "redis-cluster-bus.xps", "redis-cluster-bus.xps:12:1: " + TCP,
                "memcached-udp.xps", "memcached-udp.xps:7:1: key of map 'mc' can be 250 bytes but target 'p4-bmv2' "
                        + "allows at most 64",
                "raft-append.xps", "raft-append.xps:12:1: target 'p4-bmv2' cannot express a log map",
                "kv-replicated.xps", "kv-replicated.xps:9:1: value of map 'kv' can be 512 bytes but target 'p4-bmv2' "
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
        assertTrue(e.contains("memcached-udp.xps:14:5: target 'p4-bmv2' cannot express a variable-length field "
                + "(bytes(n), until, skip(n), skip_until)"), e::toString);
        assertTrue(e.contains("memcached-udp.xps:17:3: target 'p4-bmv2' cannot express ASCII decimal numbers "
                + "(decimal)"), e::toString);
        assertTrue(e.contains("memcached-udp.xps:7:1: target 'p4-bmv2' cannot express a map with bytes values: a "
                + "table action parameter or a register cell holds an integer"), e::toString);
        // The key from 'until' and the encodes after the value are consequences of refused constructs:
        // they are not reported again.
        assertFalse(e.stream().anyMatch(x -> x.contains(Feature.BYTES_KEYS_OF_OTHER_LENGTHS.construct())
                || x.contains(Feature.ENCODE_AT_VARIABLE_POSITION.construct())), e::toString);
    }

    @Test
    void samplesThatFitAreAccepted() {
        assertEquals(List.of(), errors(SampleFiles.compile(SampleFiles.named("timestamp-server.xps"))));
        assertEquals(List.of(), errors(SampleFiles.compile(SampleFiles.named("udp-kv-fixed.xps"))));
    }

    @Test
    void bytesValuedMaps() {
        assertEquals(List.of("t.xps:1:1: target 'p4-bmv2' cannot express a map with bytes values: a table action "
                + "parameter or a register cell holds an integer"), errors("""
                map m : hash<u32, bytes[4]> capacity 4;
                handler h on udp port 80 {
                  decode { k = u32be; } else drop;
                  v = lookup m[k] else pass;
                  encode { v }
                  return tx;
                }
                """));
    }

    @Test
    void writesToHashMaps() {
        String refusal = "target 'p4-bmv2' cannot express a write to a hash map in a handler (update, delete): P4 "
                + "tables are written by the control plane only";
        assertEquals(List.of("t.xps:4:3: " + refusal, "t.xps:5:3: " + refusal), errors("""
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
    void writesToArraysAreAccepted() {
        assertEquals(List.of(), errors("""
                map a : array<u32, u32> capacity 4;
                handler h on udp port 80 {
                  decode { k = u32be; } else drop;
                  update a[k] = 1;
                  delete a[k + 1];
                  return pass;
                }
                """));
    }

    @Test
    void keysOfTheWrongLength() {
        String refusal = "target 'p4-bmv2' cannot express a bytes[N] map key that is not exactly N bytes long: a table "
                + "key has one fixed width";
        assertEquals(List.of("t.xps:4:3: " + refusal, "t.xps:5:3: " + refusal), errors("""
                map m : hash<bytes[8], u32> capacity 4;
                handler h on udp port 80 {
                  decode { k = bytes[4]; full = bytes[8]; } else drop;
                  v = lookup m[k] else pass;
                  w = lookup m["abc"] else pass;
                  x = lookup m[full] else pass;
                  return pass;
                }
                """));
    }

    @Test
    void encodesAtPositionsNotKnownAtCompileTime() {
        assertEquals(List.of("t.xps:4:3: target 'p4-bmv2' cannot express an encode at a response position not known "
                + "at compile time: the response is built at positions fixed at compile time"), errors("""
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

    @Test
    void theNewRefusalsAreDeclaredMissingSoTargetAllSkipsThem() {
        var caps = new Bmv2Backend().capabilities();
        for (Feature f : List.of(Feature.HASH_MAP_WRITES, Feature.BYTES_MAP_VALUES,
                Feature.BYTES_KEYS_OF_OTHER_LENGTHS, Feature.ENCODE_AT_VARIABLE_POSITION, Feature.TCP)) {
            assertFalse(caps.supports(f), f.name());
            assertTrue(caps.reason(f).isPresent(), f + " is refused without saying why");
        }
        assertTrue(caps.supports(Feature.MAP_WRITES), "array writes are registers");
    }
}
