package dev.xps.backend.java;

import static dev.xps.backend.java.Ir.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.compiler.ir.IrEntryPoint;
import dev.xps.compiler.ir.IrHandler;
import dev.xps.compiler.ir.IrLocal;
import dev.xps.compiler.ir.IrMap;
import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.ir.IrType;
import dev.xps.compiler.ir.MapKind;
import dev.xps.compiler.ir.Verdict;
import dev.xps.compiler.target.GeneratedFile;
import dev.xps.compiler.target.TestOutcome;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What the runner reports, especially when a test fails. */
class JavaTestRunnerTest {
    private static final IrMap CACHE = map("cache", MapKind.HASH, new IrType.Bytes(4), new IrType.Bytes(8), 2);

    private static IrHandler answer(String response) {
        return handler("h", encode(lit(response)), ret(Verdict.TX));
    }

    private static TestOutcome only(IrModule module) {
        List<TestOutcome> outcomes = Run.outcomes(module);
        assertEquals(1, outcomes.size());
        return outcomes.getFirst();
    }

    @Test
    void wrongResponseShowsBothEscaped() {
        IrHandler h = answer("b\r\n\u0000");
        IrEntryPoint e = direct(h, tcp(1));
        TestOutcome o = only(module(List.of(), List.of(h), List.of(e), List.of(test("t", sendTx(e, "x", "a\r\n\u0000")))));
        assertFalse(o.passed());
        assertTrue(o.detail().contains("expected tx \"a\\r\\n\\x00\""), o.detail());
        assertTrue(o.detail().contains("got      tx \"b\\r\\n\\x00\""), o.detail());
        assertTrue(o.detail().startsWith(FILE + ":"), "names the step's line: " + o.detail());
    }

    @Test
    void wrongVerdictSaysWhy() {
        IrHandler h = handler("h", decode(Verdict.DROP, expect("GET")), encode(lit("ok")), ret(Verdict.TX));
        IrEntryPoint e = direct(h, tcp(1));
        TestOutcome incomplete = only(module(List.of(), List.of(h), List.of(e), List.of(test("t", sendTx(e, "GE", "ok")))));
        assertTrue(incomplete.detail().contains("got      pass (message 1 is incomplete)"), incomplete.detail());
        TestOutcome malformed = only(module(List.of(), List.of(h), List.of(e), List.of(test("t", sendTx(e, "PUT", "ok")))));
        assertTrue(malformed.detail().contains("got      drop (message 1 is malformed)"), malformed.detail());
    }

    @Test
    void mapExpectationsReportTheEntry() {
        IrHandler h = answer("ok");
        IrEntryPoint e = direct(h, tcp(1));
        List<TestOutcome> outcomes = Run.outcomes(module(List.of(CACHE), List.of(h), List.of(e), List.of(
                test("wrong value", put(CACHE, b("k"), b("v1")), sendTx(e, "x", "ok"), expectEntry(CACHE, b("k"), b("v2"))),
                test("missing", sendTx(e, "x", "ok"), expectEntry(CACHE, b("k"), b("v"))),
                test("present", put(CACHE, b("k"), b("v")), sendTx(e, "x", "ok"), expectMissing(CACHE, b("k"))),
                test("full", put(CACHE, b("a"), b("1")), put(CACHE, b("b"), b("1")), put(CACHE, b("c"), b("1")),
                        sendTx(e, "x", "ok")))));
        assertTrue(outcomes.get(0).detail().contains("expected cache[\"k\"] == \"v2\", got \"v1\""), outcomes.get(0).detail());
        assertTrue(outcomes.get(1).detail().contains("but the key is missing"), outcomes.get(1).detail());
        assertTrue(outcomes.get(2).detail().contains("to be missing, but it holds \"v\""), outcomes.get(2).detail());
        assertTrue(outcomes.get(3).detail().contains("no room for key \"c\""), outcomes.get(3).detail());
        assertTrue(outcomes.stream().noneMatch(TestOutcome::passed));
    }

    @Test
    void everyTestStartsWithFreshMaps() {
        IrLocal v = bytes("v", 8);
        IrHandler h = handler("h", lookup(v, CACHE, str("k"), Verdict.PASS), encode(value(ref(v))), ret(Verdict.TX));
        IrEntryPoint e = direct(h, tcp(1));
        Run.assertAllPass(module(List.of(CACHE), List.of(h), List.of(e), List.of(
                test("fills", put(CACHE, b("k"), b("v")), sendTx(e, "x", "v")),
                test("sees nothing", send(e, "x", Verdict.PASS), expectMissing(CACHE, b("k"))))));
    }

    @Test
    void generatedCodeThatDoesNotCompileIsReportedAsACompilerBug() {
        IrHandler h = answer("ok");
        IrEntryPoint e = direct(h, tcp(1));
        IrModule module = module(List.of(), List.of(h), List.of(e), List.of(test("a", sendTx(e, "x", "ok")),
                test("b", sendTx(e, "x", "ok"))));
        List<GeneratedFile> broken = List.of(GeneratedFile.text("java/xps/generated/Unit.java",
                "package xps.generated;\npublic final class Unit { int x = ; }\n"));
        List<TestOutcome> outcomes = Run.BACKEND.testRunner().orElseThrow().run(module, broken);
        assertEquals(2, outcomes.size());
        for (TestOutcome o : outcomes) {
            assertFalse(o.passed());
            assertTrue(o.detail().contains("does not compile (a bug in xpsc"), o.detail());
            assertTrue(o.detail().contains("Unit.java:2:"), o.detail());
        }
    }

    @Test
    void anExceptionInGeneratedCodeFailsOnlyThatTest() {
        // A key longer than the map's keys: the front end refuses this, so only a backend bug gets here.
        IrMap narrow = map("narrow", MapKind.HASH, new IrType.Bytes(1), new IrType.Bytes(1), 2);
        IrLocal v = bytes("v", 1);
        IrHandler h = handler("h", lookup(v, narrow, str("too long"), Verdict.PASS), ret(Verdict.DROP));
        IrEntryPoint e = direct(h, tcp(1));
        TestOutcome o = only(module(List.of(narrow), List.of(h), List.of(e), List.of(test("t", send(e, "x", Verdict.DROP)))));
        assertFalse(o.passed());
        assertTrue(o.detail().contains("the generated code threw java.lang.IllegalArgumentException"), o.detail());
    }

    @Test
    void runsWhereThereIsAJdk() {
        assertEquals(java.util.Optional.empty(), Run.BACKEND.testRunner().orElseThrow().unavailableReason());
    }
}
