package dev.xps.backend.p4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.target.GeneratedFile;
import dev.xps.testing.SampleFiles;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every generated P4 program parses with the P4-subset grammar and declares everything before
 * use. This runs everywhere; it is not p4c (see backends-p4/README.md): p4c runs in
 * Bmv2IntegrationTest where it is installed.
 */
class P4SyntaxTest {
    @TestFactory
    Stream<DynamicTest> everyGeneratedProgram() {
        List<DynamicTest> tests = new ArrayList<>();
        List<GeneratedFile> files = new ArrayList<>(Bmv2GoldenFilesTest.acceptedOutputs());
        for (IrModule m : Bmv2Programs.all()) {
            files.addAll(new Bmv2Backend().generate(m, new Diagnostics()));
        }
        // The nfp target's P4 half (predicates, dispatch, plugin calls) is checked the same way.
        dev.xps.backend.nfp.NfpBackend nfp = new dev.xps.backend.nfp.NfpBackend();
        List<IrModule> nfpInputs = new ArrayList<>(Bmv2Programs.all());
        SampleFiles.all().forEach(p -> nfpInputs.add(SampleFiles.compile(p)));
        for (IrModule m : nfpInputs) {
            if (dev.xps.compiler.target.CapabilityChecker.check(m, nfp, new Diagnostics())) {
                files.addAll(nfp.generate(m, new Diagnostics()));
            }
        }
        for (GeneratedFile f : files) {
            if (f.relativePath().endsWith(".p4")) {
                String p4 = new String(f.content(), StandardCharsets.UTF_8);
                tests.add(DynamicTest.dynamicTest(f.relativePath(), () -> assertEquals(List.of(), P4Check.check(p4))));
            }
        }
        assertFalse(tests.isEmpty());
        return tests.stream();
    }

    @Test
    void theCheckFindsAnUndeclaredAction() {
        String p4 = """
                control c(inout bit<8> x) {
                    table t { key = { x : exact; } actions = { missing; } default_action = missing(); }
                    apply { t.apply(); }
                }
                """;
        List<String> problems = P4Check.check(p4);
        assertTrue(problems.stream().anyMatch(p -> p.contains("action 'missing' is not declared")), problems::toString);
    }

    @Test
    void theCheckFindsAUseBeforeDeclarationAndABadField() {
        String p4 = """
                header h_t { bit<8> b; }
                struct s_t { h_t h; }
                control c(inout s_t s) {
                    apply { y = 1; bit<8> y = 0; s.h.c = 2; s.h.b = y; }
                }
                """;
        List<String> problems = P4Check.check(p4);
        assertTrue(problems.stream().anyMatch(p -> p.contains("'y' is not declared before use")), problems::toString);
        assertTrue(problems.stream().anyMatch(p -> p.contains("h_t has no field 'c'")), problems::toString);
    }

    @Test
    void theCheckFindsASyntaxError() {
        assertFalse(P4Check.check("control c() { apply { if x { } } }").isEmpty());
    }

    @Test
    void theCheckFindsATransitionToAMissingState() {
        String p4 = """
                parser p(packet_in pkt) {
                    state start { transition nowhere; }
                }
                """;
        assertTrue(P4Check.check(p4).stream().anyMatch(p -> p.contains("undeclared state 'nowhere'")));
    }
}
