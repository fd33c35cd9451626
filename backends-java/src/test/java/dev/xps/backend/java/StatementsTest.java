package dev.xps.backend.java;

import static dev.xps.backend.java.Ir.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.compiler.ir.ByteOrder;
import dev.xps.compiler.ir.IrEntryPoint;
import dev.xps.compiler.ir.IrExpr;
import dev.xps.compiler.ir.IrExpr.BinaryOp;
import dev.xps.compiler.ir.IrHandler;
import dev.xps.compiler.ir.IrLocal;
import dev.xps.compiler.ir.IrMap;
import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.ir.IrTest;
import dev.xps.compiler.ir.IrType;
import dev.xps.compiler.ir.MapKind;
import dev.xps.compiler.ir.Verdict;
import dev.xps.runtime.Bytes;
import dev.xps.runtime.MapStore;
import dev.xps.runtime.SegmentProcessor;
import dev.xps.runtime.XpsProgram;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** Statements, expressions and encode items through generated code. */
class StatementsTest {
    private static void check(List<IrMap> maps, IrHandler handler, Function<IrEntryPoint, List<IrTest>> tests) {
        IrEntryPoint entry = direct(handler, tcp(1));
        Run.assertAllPass(module(maps, List.of(handler), List.of(entry), tests.apply(entry)));
    }

    /** A handler that encodes {@code e} as a decimal and answers with it. */
    private static IrHandler decimalOf(IrExpr e) {
        return handler("h", encode(dec(e)), ret(Verdict.TX));
    }

    private static void answers(IrExpr e, String expected) {
        check(List.of(), decimalOf(e), entry -> List.of(test("value", sendTx(entry, "x", expected))));
    }

    private static IrExpr minusOne() {
        return bin(BinaryOp.SUB, num(0), num(1));
    }

    @Test
    void arithmeticWrapsLikeU64() {
        answers(minusOne(), "18446744073709551615");
        answers(bin(BinaryOp.ADD, minusOne(), num(2)), "1");
        answers(bin(BinaryOp.MUL, num(1L << 32), num(1L << 32)), "0");
        answers(bin(BinaryOp.MUL, num(3), bin(BinaryOp.ADD, num(4), num(5))), "27");
        answers(bin(BinaryOp.SUB, bin(BinaryOp.SUB, num(10), num(3)), num(2)), "5");
        answers(bin(BinaryOp.SUB, num(10), bin(BinaryOp.SUB, num(3), num(2))), "9");
    }

    @Test
    void bitwiseOperators() {
        answers(bin(BinaryOp.BIT_AND, num(0b1100), num(0b1010)), "8");
        answers(bin(BinaryOp.BIT_OR, num(0b1100), num(0b1010)), "14");
        answers(bin(BinaryOp.BIT_XOR, num(0b1100), num(0b1010)), "6");
        answers(bin(BinaryOp.ADD, bin(BinaryOp.BIT_AND, num(6), num(3)), num(1)), "3");
    }

    @Test
    void shiftsOfSixtyFourOrMoreGiveZero() {
        answers(bin(BinaryOp.SHL, num(1), num(63)), "9223372036854775808");
        answers(bin(BinaryOp.SHL, num(1), num(64)), "0");
        answers(bin(BinaryOp.SHL, num(1), num(65)), "0");
        answers(bin(BinaryOp.SHR, minusOne(), num(60)), "15");
        answers(bin(BinaryOp.SHR, minusOne(), num(64)), "0");
        answers(bin(BinaryOp.SHR, minusOne(), minusOne()), "0");
    }

    /** A handler answering "T" when {@code condition} holds and "F" otherwise. */
    private static void holds(IrExpr condition, boolean expected) {
        IrHandler h = handler("h",
                ifThen(condition, block(encode(lit("T"))), block(encode(lit("F")))),
                ret(Verdict.TX));
        check(List.of(), h, e -> List.of(test("condition", sendTx(e, "x", expected ? "T" : "F"))));
    }

    @Test
    void comparisonsAreUnsigned() {
        holds(bin(BinaryOp.GT, minusOne(), num(1)), true);
        holds(bin(BinaryOp.LT, minusOne(), num(1)), false);
        holds(bin(BinaryOp.LE, num(1), num(1)), true);
        holds(bin(BinaryOp.GE, num(0), minusOne()), false);
        holds(bin(BinaryOp.EQ, minusOne(), num(-1L)), true);
        holds(bin(BinaryOp.NE, num(1), num(2)), true);
    }

    @Test
    void bytesCompareByLengthAndContent() {
        holds(bin(BinaryOp.EQ, str("ab"), str("ab")), true);
        holds(bin(BinaryOp.EQ, str("ab"), str("abc")), false);
        holds(bin(BinaryOp.NE, str("ab"), str("aB")), true);
        holds(bin(BinaryOp.EQ, str(""), str("")), true);
    }

    @Test
    void logicalOperatorsAndNot() {
        holds(bin(BinaryOp.AND, yes(true), yes(false)), false);
        holds(bin(BinaryOp.OR, yes(false), yes(true)), true);
        holds(not(bin(BinaryOp.AND, yes(true), yes(true))), false);
        holds(bin(BinaryOp.OR, bin(BinaryOp.AND, yes(false), yes(true)), not(yes(false))), true);
        holds(bin(BinaryOp.EQ, bin(BinaryOp.LT, num(1), num(2)), yes(true)), true);
    }

    @Test
    void letAndLength() {
        IrLocal v = bytes("v", 3);
        IrLocal n = u64("n");
        IrLocal flag = bool("flag");
        IrHandler h = handler("h",
                let(v, str("abc")),
                let(n, bin(BinaryOp.MUL, len(ref(v)), len(ref(v)))),
                let(flag, bin(BinaryOp.EQ, ref(n), num(9))),
                ifThen(ref(flag), block(encode(value(ref(v)), dec(ref(n)), dec(len(str(""))))), block(encode(lit("?")))),
                ret(Verdict.TX));
        check(List.of(), h, e -> List.of(test("let", sendTx(e, "x", "abc90"))));
    }

    @Test
    void ifElseIfChains() {
        IrLocal n = uint("n", 8);
        IrHandler h = handler("h",
                decode(Verdict.DROP, intField(n, 1, ByteOrder.BIG)),
                ifThen(bin(BinaryOp.EQ, ref(n), num('1')), block(encode(lit("one")), ret(Verdict.TX)),
                        block(ifThen(bin(BinaryOp.EQ, ref(n), num('2')), block(encode(lit("two")), ret(Verdict.TX)),
                                block(ifThen(bin(BinaryOp.EQ, ref(n), num('3')), block(ret(Verdict.DROP)),
                                        block()))))),
                ret(Verdict.PASS));
        check(List.of(), h, e -> List.of(
                test("first", sendTx(e, "1", "one")),
                test("second", sendTx(e, "2", "two")),
                test("third", send(e, "3", Verdict.DROP)),
                test("none", send(e, "4", Verdict.PASS)),
                test("mixed", sendTx(e, "3121", "onetwoone"))));
        assertTrue(Run.source(single(List.of(), h, List.of())).contains("} else if ("),
                "an else holding only an if reads as else-if");
    }

    @Test
    void lookupWithIntegerKeysAndValuesTruncatesTheKey() {
        IrMap counts = map("counts", MapKind.HASH, IrType.U16, IrType.U32, 8);
        IrLocal k = u64("k");
        IrLocal v = uint("v", 32);
        IrHandler h = handler("h",
                decode(Verdict.DROP, intField(k, 8, ByteOrder.BIG)),
                lookup(v, counts, ref(k), Verdict.DROP),
                encode(dec(ref(v))), ret(Verdict.TX));
        check(List.of(counts), h, e -> List.of(
                test("hit on the low 16 bits", put(counts, le(0x1234, 2), le(7, 4)),
                        sendBytes(e, new byte[] {-1, -1, 0, 0, 0, 0, 0x12, 0x34}, Verdict.TX, b("7"))),
                test("miss", sendBytes(e, new byte[8], Verdict.DROP, null))));
    }

    @Test
    void lookupBytes() {
        IrMap cache = map("cache", MapKind.HASH, new IrType.Bytes(8), new IrType.Bytes(8), 8);
        IrLocal key = bytes("key", 8);
        IrLocal value = bytes("value", 8);
        IrHandler h = handler("h",
                decode(Verdict.DROP, until(key, "\n", 8)),
                lookup(value, cache, ref(key), Verdict.PASS),
                encode(value(ref(value))), ret(Verdict.TX));
        check(List.of(cache), h, e -> List.of(
                test("hit", put(cache, b("k"), b("v")), sendTx(e, "k\n", "v")),
                test("empty key is a key", put(cache, b(""), b("empty")), sendTx(e, "\n", "empty")),
                test("miss", send(e, "z\n", Verdict.PASS))));
    }

    @Test
    void updateTruncatesIntegersToTheSlotWidth() {
        IrMap m = map("m", MapKind.HASH, IrType.U8, IrType.U16, 4);
        IrHandler h = writeHandler("h", update(m, num(300), num(70_000)), ret(Verdict.PASS));
        check(List.of(m), h, e -> List.of(test("truncated",
                send(e, "x", Verdict.PASS), expectEntry(m, le(300 & 0xFF, 1), le(70_000 & 0xFFFF, 2)))));
    }

    @Test
    void updateOfAFullHashTakesTheElseVerdictOrContinues() {
        IrMap m = map("m", MapKind.HASH, new IrType.Bytes(4), new IrType.Bytes(4), 1);
        IrLocal key = bytes("key", 4);
        IrHandler strict = handler("h",
                decode(Verdict.DROP, fixedBytes(key, 1)),
                update(m, ref(key), str("v"), Verdict.RESET),
                encode(lit("stored")), ret(Verdict.TX));
        check(List.of(m), strict, e -> List.of(
                test("room", sendTx(e, "a", "stored"), expectEntry(m, b("a"), b("v"))),
                test("replace in a full map", put(m, b("a"), b("old")), sendTx(e, "a", "stored"),
                        expectEntry(m, b("a"), b("v"))),
                test("full", put(m, b("a"), b("old")), send(e, "b", Verdict.RESET), expectMissing(m, b("b")))));
        IrHandler lenient = handler("h",
                decode(Verdict.DROP, fixedBytes(key, 1)),
                update(m, ref(key), str("v")),
                encode(lit("went on")), ret(Verdict.TX));
        check(List.of(m), lenient, e -> List.of(
                test("full is ignored", put(m, b("a"), b("old")), sendTx(e, "b", "went on"),
                        expectMissing(m, b("b")))));
    }

    @Test
    void deleteFromHashAndArray() {
        IrMap hash = map("hash", MapKind.HASH, new IrType.Bytes(4), new IrType.Bytes(4), 4);
        IrMap array = map("slots", MapKind.ARRAY, IrType.U32, IrType.U64, 4);
        IrHandler h = writeHandler("h", delete(hash, str("k")), delete(array, num(2)), delete(array, num(99)),
                ret(Verdict.PASS));
        check(List.of(hash, array), h, e -> List.of(
                test("present", put(hash, b("k"), b("v")), put(array, le(2, 4), le(5, 8)),
                        send(e, "x", Verdict.PASS), expectMissing(hash, b("k")), expectEntry(array, le(2, 4), le(0, 8))),
                test("absent is fine", send(e, "x", Verdict.PASS))));
    }

    @Test
    void arraysHaveEverySlotAndMissOutsideTheirCapacity() {
        IrMap array = map("slots", MapKind.ARRAY, IrType.U32, IrType.U64, 4);
        IrLocal i = uint("i", 8);
        IrLocal v = u64("v");
        IrHandler h = handler("h",
                decode(Verdict.DROP, intField(i, 1, ByteOrder.BIG)),
                lookup(v, array, ref(i), Verdict.DROP),
                update(array, ref(i), bin(BinaryOp.ADD, ref(v), num(1)), Verdict.RESET),
                encode(dec(ref(v))), ret(Verdict.TX));
        check(List.of(array), h, e -> List.of(
                test("zero at first", sendTx(e, "\u0003", "0"), expectEntry(array, le(3, 4), le(1, 8))),
                test("counts", sendTx(e, "\u0001\u0001\u0001", "012")),
                test("outside", send(e, "\u0004", Verdict.DROP))));
        IrHandler writer = handler("h", update(array, num(4), num(1), Verdict.RESET), ret(Verdict.PASS));
        check(List.of(array), writer, e -> List.of(test("update outside", send(e, "x", Verdict.RESET))));
    }

    @Test
    void appendToALogUntilFull() {
        IrMap log = map("journal", MapKind.LOG, IrType.U64, new IrType.Bytes(4), 2);
        IrLocal entry = bytes("entry", 4);
        IrLocal index = u64("index");
        IrLocal back = bytes("back", 4);
        IrHandler h = handler("h",
                decode(Verdict.DROP, fixedBytes(entry, 2)),
                append(index, log, ref(entry), Verdict.DROP),
                lookup(back, log, ref(index), Verdict.RESET),
                encode(dec(ref(index)), lit("="), value(ref(back)), lit(";")), ret(Verdict.TX));
        check(List.of(log), h, e -> List.of(
                test("appends", sendTx(e, "aabb", "1=aa;2=bb;"), expectEntry(log, le(2, 8), b("bb"))),
                test("after setup", appendEntry(log, b("zz")), sendTx(e, "cc", "2=cc;")),
                test("full", sendTx(e, "aabb", "1=aa;2=bb;"), send(e, "cc", Verdict.DROP),
                        expectMissing(log, le(3, 8)))));
    }

    @Test
    void encodeItems() {
        IrHandler h = handler("h",
                encode(lit("<"), value(str("v\u0000")), dec(num(0)), lit(","), dec(minusOne()),
                        binary(num(0x1FF), 1, ByteOrder.BIG), binary(num(0x0102), 2, ByteOrder.BIG),
                        binary(num(0x0102), 2, ByteOrder.LITTLE), binary(num(0xA0B0C0D0L), 4, ByteOrder.BIG),
                        binary(num(1), 4, ByteOrder.LITTLE), binary(num(0x0102030405060708L), 8, ByteOrder.BIG),
                        binary(num(1), 8, ByteOrder.LITTLE), binary(num(0x010203), 3, ByteOrder.BIG)),
                encode(lit(">")),
                ret(Verdict.TX));
        byte[] expected = Bytes.hex("3c 7600 30 2c" + Bytes.toHex(b("18446744073709551615"))
                + "ff 0102 0201 a0b0c0d0 01000000 0102030405060708 0100000000000000 010203 3e");
        check(List.of(), h, e -> List.of(test("every item", sendBytes(e, b("x"), Verdict.TX, expected))));
    }

    @Test
    void responsesOfMessagesThatDoNotAnswerAreDiscarded() {
        IrLocal c = uint("c", 8);
        IrHandler h = handler("h",
                decode(Verdict.DROP, intField(c, 1, ByteOrder.BIG)),
                encode(lit("partial")),
                ifThen(bin(BinaryOp.EQ, ref(c), num('d')), block(ret(Verdict.DROP)), block()),
                ret(Verdict.TX));
        check(List.of(), h, e -> List.of(test("drop discards its encode", sendTx(e, "tdt", "partialpartial"))));
    }

    @Test
    void statsCountFastPathHits() throws Exception {
        IrMap cache = mapWithStats("cache", MapKind.HASH, new IrType.Bytes(4), new IrType.Bytes(4), 4);
        IrLocal key = bytes("key", 4);
        IrLocal value = bytes("value", 4);
        IrHandler h = handler("h",
                decode(Verdict.DROP, fixedBytes(key, 1)),
                lookup(value, cache, ref(key), Verdict.PASS),
                encode(value(ref(value))), ret(Verdict.TX));
        IrModule module = single(List.of(cache), h, List.of());
        MapStore store = new MapStore();
        XpsProgram program = JavaTestRunner.load(module, Run.generate(module)).apply(store);
        store.get("cache").put(b("a"), b("1"));
        SegmentProcessor processor = new SegmentProcessor();
        assertEquals(dev.xps.runtime.Verdict.TX, processor.process(program.entryPoints().getFirst(), b("aa")).verdict());
        processor.process(program.entryPoints().getFirst(), b("b"));
        assertEquals(2, store.get("cache").hits(b("a")));
        assertEquals(0, store.get("cache").hits(b("b")));
        assertEquals(new dev.xps.runtime.EntryCounters.Snapshot(2, 0, 1, 0, 0, 0), processor.counters("h").snapshot());
    }
}
