package dev.xps.backend.nfp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.target.CapabilityChecker;
import dev.xps.compiler.target.GeneratedFile;
import dev.xps.compiler.target.TestOutcome;
import dev.xps.testing.SampleFiles;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every in-language test of every sample the nfp target accepts, run on the generated Micro-C
 * compiled by gcc on this machine (one JUnit test per in-language test).
 */
class NfpSamplesTest {
    static final List<String> ACCEPTED = List.of("kv-replicated.xps", "memcached-udp.xps", "raft-append.xps",
            "timestamp-server.xps", "udp-kv-fixed.xps");

    @TestFactory
    List<DynamicNode> inLanguageTestsOnTheHost() {
        NfpBackend backend = new NfpBackend();
        Optional<String> unavailable = backend.testRunner().orElseThrow().unavailableReason();
        assumeTrue(unavailable.isEmpty(), () -> "skipped: " + unavailable.orElse(""));
        List<DynamicNode> out = new ArrayList<>();
        List<Path> inputs = new ArrayList<>(SampleFiles.all());
        inputs.addAll(NfpPrograms.all());
        for (Path sample : inputs) {
            IrModule module = SampleFiles.compile(sample);
            Diagnostics d = new Diagnostics();
            if (!CapabilityChecker.check(module, backend, d)) {
                assertTrue(!sample.startsWith(NfpPrograms.dir()), sample + " is written for nfp but refused: "
                        + d.sorted());
                continue;
            }
            List<GeneratedFile> files = backend.generate(module, d);
            assertTrue(!d.hasErrors(), sample + ": " + d.sorted());
            List<TestOutcome> outcomes = backend.testRunner().orElseThrow().run(module, files);
            assertEquals(module.tests().size(), outcomes.size());
            out.add(DynamicContainer.dynamicContainer(sample.getFileName().toString(), outcomes.stream().map(o ->
                    DynamicTest.dynamicTest(o.testName(), () -> assertTrue(o.passed(), o.location() + ": "
                            + o.detail())))));
        }
        return out;
    }

    @org.junit.jupiter.api.Test
    void theExpectedSamplesAreAccepted() {
        NfpBackend backend = new NfpBackend();
        List<String> accepted = new ArrayList<>();
        for (Path sample : SampleFiles.all()) {
            if (CapabilityChecker.check(SampleFiles.compile(sample), backend, new Diagnostics())) {
                accepted.add(sample.getFileName().toString());
            }
        }
        assertEquals(ACCEPTED.stream().filter(n -> SampleFiles.all().stream()
                .anyMatch(p -> p.getFileName().toString().equals(n))).toList(), accepted);
    }
}
