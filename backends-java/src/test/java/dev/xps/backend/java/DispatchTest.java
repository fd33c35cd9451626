package dev.xps.backend.java;

import static dev.xps.backend.java.Ir.*;

import dev.xps.compiler.ir.ByteOrder;
import dev.xps.compiler.ir.IrEntryPoint;
import dev.xps.compiler.ir.IrEntryPoint.Arm;
import dev.xps.compiler.ir.IrEntryPoint.Selector;
import dev.xps.compiler.ir.IrEntryPoint.Target;
import dev.xps.compiler.ir.IrHandler;
import dev.xps.compiler.ir.IrLocal;
import dev.xps.compiler.ir.Verdict;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Dispatch: the selector picks an arm; handler arms decode the same message from its start. */
class DispatchTest {
    /** Messages are "<2-byte kind><1-byte length><payload>"; handler 'echo' answers the payload. */
    private static IrHandler echo() {
        IrLocal n = uint("n", 8);
        IrLocal payload = bytes("payload", 8);
        return handler("echo",
                decode(Verdict.DROP, skip(2), intField(n, 1, ByteOrder.BIG), varBytes(payload, ref(n), 8)),
                encode(value(ref(payload))), ret(Verdict.TX));
    }

    private static IrHandler fallback() {
        return handler("other", decode(Verdict.DROP, skip(3)), encode(lit("?")), ret(Verdict.TX));
    }

    private static IrEntryPoint.Dispatch dispatch(ByteOrder order, List<Arm> arms, Target fallback) {
        return new IrEntryPoint.Dispatch("kinds", tcp(7), 0, 2, order, arms, fallback, at());
    }

    @Test
    void integerSelectorBigEndian() {
        IrHandler echo = echo();
        IrHandler other = fallback();
        IrEntryPoint.Dispatch d = dispatch(ByteOrder.BIG, List.of(
                new Arm(new Selector.IntValue(1), new Target.ToHandler(echo), at()),
                new Arm(new Selector.IntValue(2), new Target.ToVerdict(Verdict.DROP), at()),
                new Arm(new Selector.IntValue(0xFFFF), new Target.ToVerdict(Verdict.RESET), at())),
                new Target.ToHandler(other));
        Run.assertAllPass(module(List.of(), List.of(echo, other), List.of(d), List.of(
                test("handler arm", sendTx(d, "\u0000\u0001\u0002hi", "hi")),
                test("two messages through the handler", sendTx(d, "\u0000\u0001\u0001a\u0000\u0001\u0001b", "ab")),
                test("fallback handler", sendTx(d, "\u0001\u0000\u0000", "?")),
                test("verdict arm takes the rest of the segment", send(d, "\u0000\u0002\u0000\u0001\u0001a", Verdict.DROP)),
                test("verdict arm after a handled message", sendTx(d, "\u0000\u0001\u0001a\u0000\u0002zzz", "a")),
                test("large selector", send(d, "\u00ff\u00ff", Verdict.RESET)),
                test("selector not yet received", send(d, "\u0000", Verdict.PASS)),
                test("handler's own decode is incomplete", send(d, "\u0000\u0001\u0005ab", Verdict.PASS)))));
    }

    @Test
    void integerSelectorLittleEndian() {
        IrHandler echo = echo();
        IrEntryPoint.Dispatch d = dispatch(ByteOrder.LITTLE, List.of(
                new Arm(new Selector.IntValue(1), new Target.ToHandler(echo), at())),
                new Target.ToVerdict(Verdict.PASS));
        Run.assertAllPass(module(List.of(), List.of(echo), List.of(d), List.of(
                test("little-endian 1", sendTx(d, "\u0001\u0000\u0001x", "x")),
                test("big-endian 1 is 256", send(d, "\u0000\u0001\u0001x", Verdict.PASS)))));
    }

    @Test
    void bytesSelector() {
        IrHandler echo = echo();
        IrEntryPoint.Dispatch d = new IrEntryPoint.Dispatch("words", tcp(7), 0, 2, ByteOrder.BIG, List.of(
                new Arm(new Selector.BytesValue(b("EC")), new Target.ToHandler(echo), at()),
                new Arm(new Selector.BytesValue(b("ec")), new Target.ToHandler(echo), at()),
                new Arm(new Selector.BytesValue(b("XX")), new Target.ToVerdict(Verdict.RESET), at())),
                new Target.ToVerdict(Verdict.PASS), at());
        Run.assertAllPass(module(List.of(), List.of(echo), List.of(d), List.of(
                test("match", sendTx(d, "EC\u0002hi", "hi")),
                test("second arm, same handler", sendTx(d, "ec\u0001!EC\u0001?", "!?")),
                test("verdict", send(d, "XX", Verdict.RESET)),
                test("no match", send(d, "eC\u0001x", Verdict.PASS)))));
    }

    @Test
    void twoEntryPointsInOneModule() {
        IrHandler echo = echo();
        IrHandler other = fallback();
        IrEntryPoint first = direct(echo, tcp(1));
        IrEntryPoint second = direct(other, tcp(2));
        Run.assertAllPass(module(List.of(), List.of(echo, other), List.of(first, second), List.of(
                test("first", sendTx(first, "..\u0001a", "a")),
                test("second", sendTx(second, "...", "?")))));
    }
}
