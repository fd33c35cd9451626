package dev.xps.backend.java;

import static dev.xps.backend.java.Ir.*;

import dev.xps.compiler.ir.ByteOrder;
import dev.xps.compiler.ir.IrEntryPoint;
import dev.xps.compiler.ir.IrEntryPoint.Arm;
import dev.xps.compiler.ir.IrEntryPoint.Selector;
import dev.xps.compiler.ir.IrEntryPoint.Target;
import dev.xps.compiler.ir.IrExpr.BinaryOp;
import dev.xps.compiler.ir.IrHandler;
import dev.xps.compiler.ir.IrLocal;
import dev.xps.compiler.ir.IrMap;
import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.ir.IrType;
import dev.xps.compiler.ir.Ipv4Prefix;
import dev.xps.compiler.ir.MapKind;
import dev.xps.compiler.ir.PortRange;
import dev.xps.compiler.ir.Predicate;
import dev.xps.compiler.ir.Protocol;
import dev.xps.compiler.ir.Verdict;
import java.util.List;
import java.util.Optional;

/**
 * Modules built by hand, independent of the front end, that together use every construct the Java
 * backend lowers. Their generated code is golden-tested (golden/handbuilt/) and their tests run.
 */
final class HandBuilt {
    private HandBuilt() {}

    /** Name → module, rebuilt with fresh line numbers each time so output is stable. */
    static List<IrModule> all() {
        return List.of(kitchenSink());
    }

    /**
     * Every decode step, statement, encode item and map kind, a dispatch, a full predicate, and
     * names that Java reserves or that would hide what generated code uses.
     */
    static IrModule kitchenSink() {
        resetLines("kitchen-sink.xps");
        IrMap cache = mapWithStats("cache", MapKind.HASH, new IrType.Bytes(16), new IrType.Bytes(32), 1_000);
        IrMap counters = map("out", MapKind.ARRAY, IrType.U16, IrType.U64, 1 << 16);
        IrMap journal = map("journal", MapKind.LOG, IrType.U64, new IrType.Bytes(32), 100_000);

        IrLocal kind = uint("kind", 8);
        IrLocal length = uint("Long", 16);
        IrLocal version = uint("class", 32);
        IrLocal stamp = u64("stamp");
        IrLocal seq = uint("seq", 32);
        IrLocal tag = bytes("tag", 4);
        IrLocal trailer = bytes("trailer", 2);
        IrLocal count = u64("count");
        IrLocal key = bytes("key", 16);
        IrLocal name = bytes("name", 8);
        IrLocal value = bytes("value", 32);
        IrLocal hits = u64("hits");
        IrLocal entry = u64("entry");
        IrLocal big = bool("big");
        IrHandler binary = handler("binary",
                decode(Verdict.DROP,
                        intField(kind, 1, ByteOrder.BIG),
                        intField(length, 2, ByteOrder.BIG),
                        frame(ref(length), 64),
                        intField(version, 4, ByteOrder.LITTLE),
                        intAt(stamp, 8, ByteOrder.BIG, 8),
                        intAt(seq, 4, ByteOrder.LITTLE, 16),
                        fixedBytes(tag, 4),
                        fixedBytesAt(trailer, 2, 20),
                        require(bin(BinaryOp.AND, bin(BinaryOp.EQ, ref(kind), num(1)),
                                bin(BinaryOp.GE, ref(length), num(22))))),
                let(big, bin(BinaryOp.GT, bin(BinaryOp.SHR, ref(stamp), num(32)), num(0))),
                lookup(hits, counters, bin(BinaryOp.BIT_AND, ref(seq), num(0xFFFF)), Verdict.PASS),
                update(counters, ref(seq), bin(BinaryOp.ADD, ref(hits), num(1)), Verdict.DROP),
                append(entry, journal, ref(tag), Verdict.RESET),
                ifThen(ref(big), block(encode(binary(ref(stamp), 8, ByteOrder.LITTLE))),
                        block(encode(binary(ref(stamp), 4, ByteOrder.BIG)))),
                encode(binary(ref(version), 2, ByteOrder.LITTLE), binary(ref(entry), 3, ByteOrder.BIG),
                        value(ref(trailer)), dec(ref(hits))),
                ret(Verdict.TX));
        IrHandler text = handler("switch",
                decode(Verdict.PASS,
                        expect("*"),
                        decimal(count, 2),
                        expect("\r\n"),
                        expectCi("get "),
                        skipVar(bin(BinaryOp.SUB, ref(count), num(1)), 3),
                        until(key, " ", 16),
                        skipUntil(":", 8),
                        skip(1),
                        varBytes(name, bin(BinaryOp.MUL, ref(count), num(2)), 8),
                        expect("\r\n")),
                ifThen(bin(BinaryOp.EQ, ref(name), str("nobody\u0000\u00ff")), block(ret(Verdict.RESET)),
                        block(ifThen(not(bin(BinaryOp.NE, len(ref(key)), num(0))), block(ret(Verdict.DROP)),
                                block()))),
                lookup(value, cache, ref(key), Verdict.PASS),
                delete(cache, str("stale")),
                update(cache, ref(name), ref(value)),
                encode(lit("VALUE "), value(ref(key)), lit(" "), dec(bin(BinaryOp.SHL, len(ref(value)), num(1))),
                        lit("\r\n"), value(ref(value)), lit("\r\nEND\r\n")),
                ret(Verdict.TX));
        IrEntryPoint.Dispatch dispatch = new IrEntryPoint.Dispatch("route",
                new Predicate(Protocol.TCP, new PortRange(7000, 7010), Optional.of(new PortRange(1024, 65535)),
                        Optional.of(new Ipv4Prefix(0x0A00_0000L, 8)), Optional.of(new Ipv4Prefix(0xC0A8_0101L, 32))),
                0, 1, ByteOrder.BIG, List.of(
                        new Arm(new Selector.IntValue(1), new Target.ToHandler(binary), at()),
                        new Arm(new Selector.IntValue('*'), new Target.ToHandler(text), at()),
                        new Arm(new Selector.IntValue(0xFF), new Target.ToVerdict(Verdict.RESET), at())),
                new Target.ToVerdict(Verdict.PASS), at());
        IrHandler ping = handler("ping", encode(lit("PONG")), ret(Verdict.TX));
        IrEntryPoint udp = new IrEntryPoint.Direct("ping",
                new Predicate(Protocol.UDP, PortRange.single(9), Optional.empty(), Optional.empty(), Optional.empty()),
                ping, ping.location());
        IrModule module = new IrModule("kitchen-sink.xps", List.of(cache, counters, journal), List.of(binary, text, ping),
                List.of(dispatch, udp), List.of(), List.of(
                        test("text hit", put(cache, b("foo"), b("bar")),
                                sendTx(dispatch, "*2\r\nGET xfoo a: 1234\r\n", "VALUE foo 6\r\nbar\r\nEND\r\n"),
                                expectEntry(cache, b("1234"), b("bar"))),
                        test("text reset", sendBytes(dispatch, b("*4\r\nget abc k :Xnobody\u0000\u00ff\r\n"), Verdict.RESET,
                                null)),
                        test("binary", sendBytes(dispatch, binaryMessage(), Verdict.TX,
                                dev.xps.runtime.Bytes.hex("04030201 0403 000001 7a7a 30"))),
                        test("udp", sendTx(udp, "anything", "PONG"))));
        resetLines(FILE);
        return module;
    }

    /** kind 1, length 22, version 0x01020304 (LE), tag "abcd" at 7, stamp at 8, seq 5 (LE) at 16, "zz" at 20. */
    private static byte[] binaryMessage() {
        return dev.xps.runtime.Bytes.hex("01 0016 04030201 00 0000000004030201 05000000 7a7a");
    }
}
