package dev.xps.backend.java;

import static dev.xps.backend.java.Ir.*;

import dev.xps.compiler.ir.ByteOrder;
import dev.xps.compiler.ir.IrEntryPoint;
import dev.xps.compiler.ir.IrExpr.BinaryOp;
import dev.xps.compiler.ir.IrHandler;
import dev.xps.compiler.ir.IrLocal;
import dev.xps.compiler.ir.IrTest;
import dev.xps.compiler.ir.Verdict;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Every decode step through generated code and the segment rules: a malformed message takes its
 * decode's else verdict (drop here, to tell it from pass) and the rest of the segment; an
 * incomplete one passes the whole segment.
 */
class DecodeOpsTest {
    /** A one-handler module on tcp port 1; {@code tests} gets the entry point to send to. */
    private static void check(IrHandler handler, Function<IrEntryPoint, List<IrTest>> tests) {
        IrEntryPoint entry = direct(handler, tcp(1));
        Run.assertAllPass(module(List.of(), List.of(handler), List.of(entry), tests.apply(entry)));
    }

    @Test
    void expectAndExpectIgnoreCase() {
        IrHandler h = handler("h",
                decode(Verdict.DROP, expect("GET "), expectCi("key"), expect("\r\n")),
                encode(lit("ok")), ret(Verdict.TX));
        check(h, e -> List.of(
                test("match", sendTx(e, "GET KEY\r\n", "ok")),
                test("case folded", sendTx(e, "GET kEy\r\n", "ok")),
                test("prefix is incomplete", send(e, "GET ke", Verdict.PASS)),
                test("mismatch is malformed", send(e, "GXT", Verdict.DROP)),
                test("expect is case-sensitive", send(e, "get key\r\n", Verdict.DROP)),
                test("pipelined", sendTx(e, "GET key\r\nGET KEY\r\n", "okok")),
                test("second message incomplete", send(e, "GET key\r\nGET", Verdict.PASS)),
                test("malformed second message adds nothing", sendTx(e, "GET key\r\nXXX", "ok"))));
    }

    @Test
    void skipAndVariableSkip() {
        IrLocal n = uint("n", 8);
        IrHandler h = handler("h",
                decode(Verdict.DROP, intField(n, 1, ByteOrder.BIG), skipVar(ref(n), 4), skip(1)),
                encode(dec(ref(n))), ret(Verdict.TX));
        check(h, e -> List.of(
                test("within max", sendTx(e, "\u0002ab!", "2")),
                test("zero", sendTx(e, "\u0000!", "0")),
                test("over max is malformed", send(e, "\u0005abcdef", Verdict.DROP)),
                test("short is incomplete", send(e, "\u0003ab", Verdict.PASS)),
                test("fixed skip short is incomplete", send(e, "\u0001a", Verdict.PASS))));
    }

    @Test
    void untilAndSkipUntil() {
        IrLocal key = bytes("key", 5);
        IrHandler h = handler("h",
                decode(Verdict.DROP, expect("K "), until(key, " ", 5), skipUntil("\r\n", 3)),
                encode(value(ref(key))), ret(Verdict.TX));
        check(h, e -> List.of(
                test("found", sendTx(e, "K abc xy\r\n", "abc")),
                test("empty value", sendTx(e, "K  \r\n", "")),
                test("delimiter exactly max bytes on", sendTx(e, "K abcde xyz\r\n", "abcde")),
                test("until past max is malformed", send(e, "K abcdef ", Verdict.DROP)),
                test("until not yet found is incomplete", send(e, "K abc", Verdict.PASS)),
                test("skip_until past max is malformed", send(e, "K abc xyzw\r\n", Verdict.DROP)),
                test("half a delimiter is incomplete", send(e, "K abc xyz\r", Verdict.PASS)),
                test("pipelined", sendTx(e, "K a \r\nK b \r\n", "ab"))));
    }

    @Test
    void decimalDigits() {
        IrLocal n = u64("n");
        IrHandler h = handler("h",
                decode(Verdict.DROP, decimal(n, 3), expect(";")),
                encode(dec(ref(n))), ret(Verdict.TX));
        check(h, e -> List.of(
                test("digits", sendTx(e, "42;", "42")),
                test("max digits", sendTx(e, "999;", "999")),
                test("leading zeros", sendTx(e, "007;", "7")),
                test("too many digits is malformed", send(e, "1000;", Verdict.DROP)),
                test("no digit is malformed", send(e, ";", Verdict.DROP)),
                test("data ends inside the digits", send(e, "12", Verdict.PASS)),
                test("data ends after max digits", send(e, "123", Verdict.PASS)),
                test("second number still arriving", send(e, "1;2", Verdict.PASS))));
    }

    @Test
    void variableBytes() {
        IrLocal n = uint("n", 8);
        IrLocal v = bytes("v", 3);
        IrHandler h = handler("h",
                decode(Verdict.DROP, intField(n, 1, ByteOrder.BIG), varBytes(v, ref(n), 3)),
                encode(value(ref(v))), ret(Verdict.TX));
        check(h, e -> List.of(
                test("bytes", sendTx(e, "\u0003abc", "abc")),
                test("over max is malformed", send(e, "\u0004abcd", Verdict.DROP)),
                test("short is incomplete", send(e, "\u0003ab", Verdict.PASS)),
                test("pipelined", sendTx(e, "\u0001a\u0002bc\u0000", "abc"))));
    }

    @Test
    void fixedBytesAtTheCursorAndAtAnOffset() {
        IrLocal a = bytes("a", 2);
        IrLocal t = bytes("t", 1);
        IrHandler h = handler("h",
                decode(Verdict.DROP, fixedBytes(a, 2), fixedBytesAt(t, 1, 5)),
                encode(value(ref(a)), value(ref(t))), ret(Verdict.TX));
        check(h, e -> List.of(
                // The message ends at the furthest byte read (offset 5), not at the cursor (2).
                test("message spans the fixed read", sendTx(e, "abcdefghijkl", "abfghl")),
                test("short is incomplete", send(e, "abcde", Verdict.PASS))));
    }

    @Test
    void integerFieldsOfEveryWidthAndOrder() {
        IrLocal a = uint("a", 8);
        IrLocal b = uint("b", 16);
        IrLocal c = uint("c", 16);
        IrLocal d = uint("d", 32);
        IrLocal f = uint("f", 32);
        IrLocal g = u64("g");
        IrLocal h64 = u64("h");
        IrLocal first = uint("first", 16);
        IrHandler h = handler("ints",
                decode(Verdict.DROP, intField(a, 1, ByteOrder.BIG), intField(b, 2, ByteOrder.BIG),
                        intField(c, 2, ByteOrder.LITTLE), intField(d, 4, ByteOrder.BIG),
                        intField(f, 4, ByteOrder.LITTLE), intField(g, 8, ByteOrder.BIG),
                        intField(h64, 8, ByteOrder.LITTLE), intAt(first, 2, ByteOrder.LITTLE, 0)),
                encode(binary(ref(a), 1, ByteOrder.BIG), binary(ref(b), 2, ByteOrder.BIG),
                        binary(ref(c), 2, ByteOrder.LITTLE), binary(ref(d), 4, ByteOrder.BIG),
                        binary(ref(f), 4, ByteOrder.LITTLE), binary(ref(g), 8, ByteOrder.BIG),
                        binary(ref(h64), 8, ByteOrder.LITTLE), lit("|"), dec(ref(first)), lit("|"),
                        dec(ref(g)), lit("|"), dec(ref(d))),
                ret(Verdict.TX));
        byte[] payload = new byte[29];
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) (i + 1);
        }
        for (int i = 13; i < 21; i++) {
            payload[i] = (byte) 0xFF;
        }
        payload[5] = (byte) 0x80;
        byte[] text = b("|" + 0x0201 + "|" + Long.toUnsignedString(-1L) + "|" + 0x80070809L);
        byte[] expected = new byte[payload.length + text.length];
        System.arraycopy(payload, 0, expected, 0, payload.length);
        System.arraycopy(text, 0, expected, payload.length, text.length);
        check(h, e -> List.of(
                test("round trip", sendBytes(e, payload, Verdict.TX, expected)),
                test("short is incomplete", sendBytes(e, java.util.Arrays.copyOf(payload, 28), Verdict.PASS, null))));
    }

    @Test
    void requireCondition() {
        IrLocal n = uint("n", 8);
        IrHandler h = handler("h",
                decode(Verdict.DROP, intField(n, 1, ByteOrder.BIG), require(bin(BinaryOp.LT, ref(n), num(10)))),
                encode(lit("ok")), ret(Verdict.TX));
        check(h, e -> List.of(
                test("true", sendTx(e, "\u0005", "ok")),
                test("false is malformed", send(e, "\n", Verdict.DROP))));
    }

    @Test
    void frameLength() {
        IrLocal length = uint("length", 16);
        IrHandler h = handler("h",
                decode(Verdict.DROP, intField(length, 2, ByteOrder.BIG), frame(ref(length), 16)),
                encode(lit("F")), ret(Verdict.TX));
        check(h, e -> List.of(
                test("one frame", sendTx(e, "\u0000\u0004ab", "F")),
                test("two frames", sendTx(e, "\u0000\u0004ab\u0000\u0003c", "FF")),
                test("over max is malformed", send(e, "\u0000\u0011" + "x".repeat(15), Verdict.DROP)),
                test("shorter than what was read is malformed", send(e, "\u0000\u0001", Verdict.DROP)),
                test("longer than received is incomplete", send(e, "\u0000\u0005ab", Verdict.PASS))));
    }

    @Test
    void withoutDecodeTheMessageIsTheWholeSegment() {
        IrHandler h = handler("h", encode(lit("once")), ret(Verdict.TX));
        check(h, e -> List.of(
                test("whole segment", sendTx(e, "abc\r\ndef", "once")),
                test("empty segment passes", send(e, "", Verdict.PASS))));
    }

    @Test
    void atMostThirtyTwoMessagesPerSegment() {
        IrHandler h = handler("h", decode(Verdict.DROP, skip(1)), encode(lit("x")), ret(Verdict.TX));
        check(h, e -> List.of(
                test("32 messages", sendTx(e, ".".repeat(32), "x".repeat(32))),
                test("33 messages", send(e, ".".repeat(33), Verdict.PASS))));
    }
}
