package dev.xps.backend.java;

import dev.xps.compiler.diag.SourceLocation;
import dev.xps.compiler.ir.ByteOrder;
import dev.xps.compiler.ir.DecodeOp;
import dev.xps.compiler.ir.EncodeItem;
import dev.xps.compiler.ir.IrEntryPoint;
import dev.xps.compiler.ir.IrExpr;
import dev.xps.compiler.ir.IrExpr.BinaryOp;
import dev.xps.compiler.ir.IrHandler;
import dev.xps.compiler.ir.IrLocal;
import dev.xps.compiler.ir.IrMap;
import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.ir.IrStmt;
import dev.xps.compiler.ir.IrTest;
import dev.xps.compiler.ir.IrType;
import dev.xps.compiler.ir.MapKind;
import dev.xps.runtime.MapLayout;
import dev.xps.compiler.ir.PortRange;
import dev.xps.compiler.ir.Predicate;
import dev.xps.compiler.ir.Protocol;
import dev.xps.compiler.ir.Verdict;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * Builds IR by hand, tersely, for tests that must not depend on the front end. Every node gets
 * a location on its own line, numbered in creation order, so generated comments are predictable.
 */
final class Ir {
    static final String FILE = "unit.xps";
    private static String file = FILE;
    private static int line = 1;

    private Ir() {}

    static SourceLocation at() {
        return new SourceLocation(file, line++, 3);
    }

    /** Numbers lines from 1 again, in {@code fileName}; {@link #FILE} is the default. */
    static void resetLines(String fileName) {
        file = fileName;
        line = 1;
    }

    static byte[] b(String text) {
        return text.getBytes(StandardCharsets.ISO_8859_1);
    }

    // ------------------------------------------------------------------ locals and expressions

    static IrLocal u64(String name) {
        return new IrLocal(name, IrType.U64);
    }

    static IrLocal uint(String name, int bits) {
        return new IrLocal(name, new IrType.Int(bits));
    }

    static IrLocal bytes(String name, int max) {
        return new IrLocal(name, new IrType.Bytes(max));
    }

    static IrLocal bool(String name) {
        return new IrLocal(name, IrType.BOOL);
    }

    static IrExpr ref(IrLocal local) {
        return new IrExpr.LocalRef(local);
    }

    static IrExpr num(long value) {
        return new IrExpr.IntConst(value);
    }

    static IrExpr str(String text) {
        return new IrExpr.BytesConst(b(text));
    }

    static IrExpr yes(boolean value) {
        return new IrExpr.BoolConst(value);
    }

    static IrExpr bin(BinaryOp op, IrExpr left, IrExpr right) {
        return new IrExpr.Binary(op, left, right);
    }

    static IrExpr len(IrExpr operand) {
        return new IrExpr.Length(operand);
    }

    static IrExpr not(IrExpr operand) {
        return new IrExpr.Not(operand);
    }

    // ------------------------------------------------------------------ decode

    static IrStmt decode(Verdict onMalformed, DecodeOp... ops) {
        return new IrStmt.Decode(List.of(ops), onMalformed, at());
    }

    static DecodeOp expect(String literal) {
        return new DecodeOp.Expect(b(literal), false, at());
    }

    static DecodeOp expectCi(String literal) {
        return new DecodeOp.Expect(b(literal), true, at());
    }

    static DecodeOp skip(int n) {
        return new DecodeOp.Skip(n, at());
    }

    static DecodeOp skipVar(IrExpr count, int max) {
        return new DecodeOp.SkipVar(count, max, at());
    }

    static DecodeOp skipUntil(String delimiter, int max) {
        return new DecodeOp.SkipUntil(b(delimiter), max, at());
    }

    static DecodeOp decimal(IrLocal target, int maxDigits) {
        return new DecodeOp.Decimal(target, maxDigits, at());
    }

    static DecodeOp varBytes(IrLocal target, IrExpr length, int max) {
        return new DecodeOp.VarBytes(target, length, max, at());
    }

    static DecodeOp fixedBytes(IrLocal target, int size) {
        return new DecodeOp.FixedBytes(target, size, OptionalInt.empty(), at());
    }

    static DecodeOp fixedBytesAt(IrLocal target, int size, int offset) {
        return new DecodeOp.FixedBytes(target, size, OptionalInt.of(offset), at());
    }

    static DecodeOp until(IrLocal target, String delimiter, int max) {
        return new DecodeOp.Until(target, b(delimiter), max, at());
    }

    static DecodeOp intField(IrLocal target, int width, ByteOrder order) {
        return new DecodeOp.IntField(target, width, order, OptionalInt.empty(), at());
    }

    static DecodeOp intAt(IrLocal target, int width, ByteOrder order, int offset) {
        return new DecodeOp.IntField(target, width, order, OptionalInt.of(offset), at());
    }

    static DecodeOp require(IrExpr condition) {
        return new DecodeOp.Require(condition, at());
    }

    static DecodeOp frame(IrExpr length, int max) {
        return new DecodeOp.Frame(length, max, at());
    }

    // ------------------------------------------------------------------ statements

    static IrStmt let(IrLocal target, IrExpr value) {
        return new IrStmt.Let(target, value, at());
    }

    static IrStmt lookup(IrLocal target, IrMap map, IrExpr key, Verdict onMiss) {
        return new IrStmt.Lookup(target, map, key, onMiss, at());
    }

    static IrStmt update(IrMap map, IrExpr key, IrExpr value) {
        return new IrStmt.Update(map, key, value, Optional.empty(), at());
    }

    static IrStmt update(IrMap map, IrExpr key, IrExpr value, Verdict onFull) {
        return new IrStmt.Update(map, key, value, Optional.of(onFull), at());
    }

    static IrStmt delete(IrMap map, IrExpr key) {
        return new IrStmt.Delete(map, key, at());
    }

    static IrStmt append(IrLocal target, IrMap map, IrExpr value, Verdict onFull) {
        return new IrStmt.Append(target, map, value, onFull, at());
    }

    static IrStmt ifThen(IrExpr condition, List<IrStmt> then, List<IrStmt> otherwise) {
        return new IrStmt.If(condition, then, otherwise, at());
    }

    static IrStmt encode(EncodeItem... items) {
        return new IrStmt.Encode(List.of(items), at());
    }

    static EncodeItem lit(String text) {
        return new EncodeItem.Literal(b(text));
    }

    static EncodeItem value(IrExpr bytes) {
        return new EncodeItem.Value(bytes);
    }

    static EncodeItem dec(IrExpr value) {
        return new EncodeItem.Decimal(value);
    }

    static EncodeItem binary(IrExpr value, int width, ByteOrder order) {
        return new EncodeItem.IntBinary(value, width, order);
    }

    static IrStmt ret(Verdict verdict) {
        return new IrStmt.Return(verdict, at());
    }

    // ------------------------------------------------------------------ declarations

    static IrMap map(String name, MapKind kind, IrType key, IrType value, long capacity) {
        return new IrMap(name, kind, key, value, capacity, false, at());
    }

    static IrMap mapWithStats(String name, MapKind kind, IrType key, IrType value, long capacity) {
        return new IrMap(name, kind, key, value, capacity, true, at());
    }

    /** A handler whose locals are collected from its body. */
    static IrHandler handler(String name, IrStmt... body) {
        return new IrHandler(name, false, locals(List.of(body)), List.of(body), 0, 0, at());
    }

    static IrHandler writeHandler(String name, IrStmt... body) {
        return new IrHandler(name, true, locals(List.of(body)), List.of(body), 0, 0, at());
    }

    static Predicate tcp(int port) {
        return new Predicate(Protocol.TCP, PortRange.single(port), Optional.empty(), Optional.empty(), Optional.empty());
    }

    static IrEntryPoint.Direct direct(IrHandler handler, Predicate predicate) {
        return new IrEntryPoint.Direct(handler.name(), predicate, handler, handler.location());
    }

    static IrModule module(List<IrMap> maps, List<IrHandler> handlers, List<IrEntryPoint> entries,
                           List<IrTest> tests) {
        return new IrModule(file, maps, handlers, entries, List.of(), tests);
    }

    /** One handler on tcp port 1 with its tests. */
    static IrModule single(List<IrMap> maps, IrHandler handler, List<IrTest> tests) {
        return module(maps, List.of(handler), List.of(direct(handler, tcp(1))), tests);
    }

    // ------------------------------------------------------------------ tests

    static IrTest test(String name, IrTest.Step... steps) {
        return new IrTest(name, List.of(steps), at());
    }

    static IrTest.Step send(IrEntryPoint entry, String payload, Verdict verdict) {
        return new IrTest.Send(entry, b(payload), verdict, Optional.empty(), at());
    }

    static IrTest.Step sendTx(IrEntryPoint entry, String payload, String response) {
        return new IrTest.Send(entry, b(payload), Verdict.TX, Optional.of(b(response)), at());
    }

    static IrTest.Step sendBytes(IrEntryPoint entry, byte[] payload, Verdict verdict, byte[] response) {
        return new IrTest.Send(entry, payload, verdict, Optional.ofNullable(response), at());
    }

    static IrTest.Step put(IrMap map, byte[] key, byte[] value) {
        return new IrTest.Put(map, key, value, at());
    }

    static IrTest.Step appendEntry(IrMap map, byte[] value) {
        return new IrTest.Append(map, value, at());
    }

    static IrTest.Step expectEntry(IrMap map, byte[] key, byte[] value) {
        return new IrTest.ExpectEntry(map, key, value, at());
    }

    static IrTest.Step expectMissing(IrMap map, byte[] key) {
        return new IrTest.ExpectMissing(map, key, at());
    }

    static byte[] le(long value, int width) {
        return MapLayout.encodeInt(value, width);
    }

    // ------------------------------------------------------------------ locals of a body

    private static List<IrLocal> locals(List<IrStmt> body) {
        Set<IrLocal> out = new LinkedHashSet<>();
        collect(body, out);
        return List.copyOf(out);
    }

    private static void collect(List<IrStmt> body, Set<IrLocal> out) {
        for (IrStmt s : body) {
            switch (s) {
                case IrStmt.Decode d -> {
                    for (DecodeOp op : d.ops()) {
                        switch (op) {
                            case DecodeOp.Decimal x -> out.add(x.target());
                            case DecodeOp.VarBytes x -> out.add(x.target());
                            case DecodeOp.FixedBytes x -> out.add(x.target());
                            case DecodeOp.Until x -> out.add(x.target());
                            case DecodeOp.IntField x -> out.add(x.target());
                            default -> { }
                        }
                    }
                }
                case IrStmt.Let l -> out.add(l.target());
                case IrStmt.Lookup l -> out.add(l.target());
                case IrStmt.Append a -> out.add(a.target());
                case IrStmt.If i -> {
                    collect(i.then(), out);
                    collect(i.otherwise(), out);
                }
                default -> { }
            }
        }
    }

    static List<IrStmt> block(IrStmt... statements) {
        return new ArrayList<>(List.of(statements));
    }
}
