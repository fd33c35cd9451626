package dev.xps.compiler.sema;

import dev.xps.compiler.ast.Ast;
import dev.xps.compiler.ast.Ast.*;
import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.diag.SourceLocation;
import dev.xps.compiler.ir.ByteOrder;
import dev.xps.compiler.ir.DecodeOp;
import dev.xps.compiler.ir.EncodeItem;
import dev.xps.compiler.ir.IrExpr;
import dev.xps.compiler.ir.IrExpr.BinaryOp;
import dev.xps.compiler.ir.IrHandler;
import dev.xps.compiler.ir.IrLocal;
import dev.xps.compiler.ir.IrMap;
import dev.xps.compiler.ir.IrStmt;
import dev.xps.compiler.ir.IrType;
import dev.xps.compiler.ir.MapKind;
import dev.xps.compiler.ir.Verdict;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Checks one handler body and lowers it to IR: names and types, sizes and bounds, the decode
 * rules (one decode block, first), and flow (every path returns, nothing after a return, a
 * response is encoded before 'return tx', a write handler only passes).
 */
final class HandlerAnalyzer {
    private final HandlerDecl decl;
    private final Map<String, IrMap> maps;
    private final Diagnostics diagnostics;
    private final Scope scope = new Scope();
    private final java.util.Set<String> usedMaps;
    /** Errors already reported for an expression make its type unknown; don't pile on. */
    private static final IrType UNKNOWN = new IrType.Bytes(-1);

    private int responseBytes;
    private int messageBytes;

    HandlerAnalyzer(HandlerDecl decl, Map<String, IrMap> maps, java.util.Set<String> usedMaps, Diagnostics diagnostics) {
        this.decl = decl;
        this.maps = maps;
        this.usedMaps = usedMaps;
        this.diagnostics = diagnostics;
    }

    /** Flow facts after a statement sequence. */
    private record Flow(boolean returns, boolean encoded) {}

    IrHandler analyze() {
        List<IrStmt> body = new ArrayList<>();
        Flow flow = block(decl.body(), body, new Flow(false, false), true);
        if (!flow.returns()) {
            diagnostics.error(decl.name().location(), decl.name().text().length(),
                    "handler '" + decl.name().text() + "' can reach its end without a return (add 'return "
                            + "pass;')");
        }
        if (decl.write() && body.stream().noneMatch(HandlerAnalyzer::writesMap)) {
            diagnostics.warning(decl.name().location(), "write handler '" + decl.name().text()
                    + "' never updates or deletes a map entry");
        }
        return new IrHandler(decl.name().text(), decl.write(), scope.locals(), List.copyOf(body), messageBytes,
                responseBytes, decl.location());
    }

    private static boolean writesMap(IrStmt s) {
        return switch (s) {
            case IrStmt.Update u -> true;
            case IrStmt.Delete d -> true;
            case IrStmt.Append a -> true;
            case IrStmt.If i -> i.then().stream().anyMatch(HandlerAnalyzer::writesMap)
                    || i.otherwise().stream().anyMatch(HandlerAnalyzer::writesMap);
            default -> false;
        };
    }

    private Flow block(List<Stmt> stmts, List<IrStmt> out, Flow flow, boolean topLevel) {
        boolean reportedUnreachable = false;
        for (int i = 0; i < stmts.size(); i++) {
            Stmt s = stmts.get(i);
            if (flow.returns() && !reportedUnreachable) {
                diagnostics.error(s.location(), "unreachable statement: every path before it has returned");
                reportedUnreachable = true;
            }
            if (s instanceof DecodeStmt d && !(topLevel && i == 0)) {
                diagnostics.error(s.location(), "decode must be the first statement of a handler (and there can be "
                        + "only one): the message boundary is known only after decoding");
            }
            flow = statement(s, out, flow);
        }
        return flow;
    }

    private Flow statement(Stmt s, List<IrStmt> out, Flow flow) {
        switch (s) {
            case DecodeStmt d -> {
                List<DecodeOp> ops = decode(d);
                out.add(new IrStmt.Decode(ops, elseVerdict(d.onMalformed(), d.location(), "decode", flow),
                        d.location()));
            }
            case LetStmt l -> {
                IrExpr value = expr(l.value());
                IrLocal local = define(l.target(), value.type());
                out.add(new IrStmt.Let(local, value, l.location()));
            }
            case LookupStmt l -> {
                Optional<IrMap> map = map(l.map());
                IrExpr key = expr(l.key());
                Verdict onMiss = elseVerdict(l.onMiss(), l.location(), "lookup", flow);
                if (map.isPresent()) {
                    IrMap m = map.get();
                    checkKey(m, key, l.key().location());
                    IrLocal local = define(l.target(), m.valueType());
                    out.add(new IrStmt.Lookup(local, m, key, onMiss, l.location()));
                } else {
                    define(l.target(), UNKNOWN);
                }
            }
            case AppendStmt a -> {
                Optional<IrMap> map = map(a.map());
                IrExpr value = expr(a.value());
                Verdict onFull = elseVerdict(a.onFull(), a.location(), "append", flow);
                IrLocal local = define(a.target(), IrType.U64);
                map.ifPresent(m -> {
                    if (m.kind() != MapKind.LOG) {
                        diagnostics.error(a.map().location(), "append needs a log map, but '" + m.name() + "' is a "
                                + kind(m) + " map (use update)");
                    } else {
                        checkValue(m, value, a.value().location());
                        out.add(new IrStmt.Append(local, m, value, onFull, a.location()));
                    }
                });
            }
            case UpdateStmt u -> {
                Optional<IrMap> map = map(u.map());
                IrExpr key = expr(u.key());
                IrExpr value = expr(u.value());
                Optional<Verdict> onFull = u.onFull().map(v -> elseVerdict(v, u.location(), "update", flow));
                map.ifPresent(m -> {
                    if (notLog(m, u.map(), "update")) {
                        checkKey(m, key, u.key().location());
                        checkValue(m, value, u.value().location());
                        out.add(new IrStmt.Update(m, key, value, onFull, u.location()));
                    }
                });
            }
            case DeleteStmt d -> {
                Optional<IrMap> map = map(d.map());
                IrExpr key = expr(d.key());
                map.ifPresent(m -> {
                    if (notLog(m, d.map(), "delete")) {
                        checkKey(m, key, d.key().location());
                        out.add(new IrStmt.Delete(m, key, d.location()));
                    }
                });
            }
            case IfStmt i -> {
                IrExpr cond = expr(i.condition());
                expectType(cond, IrType.BOOL, i.condition().location(), "an if condition");
                List<IrStmt> thenOut = new ArrayList<>();
                scope.enterBlock();
                Flow thenFlow = block(i.then(), thenOut, flow, false);
                scope.exitBlock();
                List<IrStmt> elseOut = new ArrayList<>();
                Flow elseFlow = flow;
                if (i.otherwise().isPresent()) {
                    scope.enterBlock();
                    elseFlow = block(i.otherwise().get(), elseOut, flow, false);
                    scope.exitBlock();
                }
                out.add(new IrStmt.If(cond, List.copyOf(thenOut), List.copyOf(elseOut), i.location()));
                return merge(thenFlow, elseFlow);
            }
            case EncodeStmt e -> {
                List<EncodeItem> items = new ArrayList<>();
                for (Ast.EncodeItem item : e.items()) {
                    encodeItem(item).ifPresent(items::add);
                }
                int size = items.stream().mapToInt(EncodeItem::maxLength).sum();
                responseBytes = (int) Math.min(Integer.MAX_VALUE, (long) responseBytes + size);
                if (responseBytes > Limits.MAX_BYTES) {
                    diagnostics.error(e.location(), "the response can grow to " + responseBytes
                            + " bytes; responses are limited to " + Limits.MAX_BYTES);
                    responseBytes = 0;
                }
                out.add(new IrStmt.Encode(List.copyOf(items), e.location()));
                return new Flow(flow.returns(), true);
            }
            case ReturnStmt r -> {
                Verdict v = verdict(r.verdict(), r.location(), "return");
                if (v == Verdict.TX && !flow.encoded()) {
                    diagnostics.error(r.location(), "'return tx' with nothing to send: no encode runs on every path "
                            + "to this return");
                }
                out.add(new IrStmt.Return(v, r.location()));
                return new Flow(true, flow.encoded());
            }
        }
        return flow;
    }

    /** After if/else: returns if both branches return; encoded if every branch that continues encoded. */
    private static Flow merge(Flow a, Flow b) {
        if (a.returns() && b.returns()) {
            return new Flow(true, a.encoded() && b.encoded());
        }
        if (a.returns()) {
            return b;
        }
        if (b.returns()) {
            return a;
        }
        return new Flow(false, a.encoded() && b.encoded());
    }

    private Verdict verdict(Verdict v, SourceLocation at, String where) {
        if (decl.write() && v != Verdict.PASS) {
            diagnostics.error(at, "a write handler must pass every write on to the service (strict consistency), "
                    + "but its " + where + " says '" + v.keyword() + "'");
        }
        return v;
    }

    /** The verdict of a statement's 'else': like a return, 'else tx' needs a response encoded before it. */
    private Verdict elseVerdict(Verdict v, SourceLocation at, String statement, Flow flow) {
        verdict(v, at, statement + "'s else");
        if (v == Verdict.TX && !decl.write() && !flow.encoded()) {
            diagnostics.error(at, "'else tx' with nothing to send: " + (statement.equals("decode")
                    ? "a response can only be encoded after decode; use 'else pass', 'else drop' or 'else reset'"
                    : "no encode runs on every path to this " + statement));
        }
        return v;
    }

    // ------------------------------------------------------------------ decode

    private List<DecodeOp> decode(DecodeStmt d) {
        List<DecodeOp> ops = new ArrayList<>();
        long cursorMax = 0;
        long furthestFixed = 0;
        long frameMax = -1;
        boolean reads = false;
        for (Ast.DecodeOp op : d.ops()) {
            SourceLocation at = op.location();
            switch (op) {
                case ExpectOp e -> {
                    if (e.literal().length == 0) {
                        diagnostics.error(at, "expect needs a non-empty literal");
                    }
                    ops.add(new DecodeOp.Expect(e.literal(), e.caseInsensitive(), at));
                    cursorMax += e.literal().length;
                    reads = true;
                }
                case SkipOp s -> {
                    int n = bound(s.count(), at, "skip count", 1);
                    ops.add(new DecodeOp.Skip(n, at));
                    cursorMax += n;
                    reads = true;
                }
                case SkipVarOp s -> {
                    IrExpr count = expr(s.count());
                    expectType(count, IrType.U64, s.count().location(), "a skip count");
                    int max = bound(s.max(), at, "skip's max", 1);
                    ops.add(new DecodeOp.SkipVar(count, max, at));
                    cursorMax += max;
                    reads = true;
                }
                case SkipUntilOp s -> {
                    nonEmptyDelimiter(s.delimiter(), at);
                    int max = bound(s.max(), at, "skip_until's max", 1);
                    ops.add(new DecodeOp.SkipUntil(s.delimiter(), max, at));
                    cursorMax += max + s.delimiter().length;
                    reads = true;
                }
                case RequireOp r -> {
                    IrExpr cond = expr(r.condition());
                    expectType(cond, IrType.BOOL, r.condition().location(), "a require condition");
                    ops.add(new DecodeOp.Require(cond, at));
                }
                case FrameOp f -> {
                    IrExpr length = expr(f.length());
                    expectType(length, IrType.U64, f.length().location(), "a frame length");
                    int max = bound(f.max(), at, "frame's max", 1);
                    if (frameMax >= 0) {
                        diagnostics.error(at, "a decode block can have only one frame");
                    } else if (op != d.ops().getLast()) {
                        diagnostics.error(at, "frame must be the last step of a decode block: it fixes the "
                                + "message's length, so every read must come before it");
                    }
                    frameMax = max;
                    ops.add(new DecodeOp.Frame(length, max, at));
                }
                case FieldOp f -> {
                    long[] extent = field(f, ops);
                    cursorMax += extent[0];
                    furthestFixed = Math.max(furthestFixed, extent[1]);
                    reads = true;
                }
            }
        }
        if (!reads) {
            diagnostics.error(d.location(), "decode reads no bytes, so the message would be empty; "
                    + "read at least one field or literal");
        }
        long max = frameMax >= 0 ? frameMax : Math.max(cursorMax, furthestFixed);
        if (max > Limits.MAX_BYTES && frameMax < 0) {
            diagnostics.error(d.location(), "a message can span " + max + " bytes; messages are limited to "
                    + Limits.MAX_BYTES + " (lower the max of a field)");
        }
        messageBytes = (int) Math.min(max, Limits.MAX_BYTES);
        return List.copyOf(ops);
    }

    /** Adds the op for one field; returns {bytes it advances the cursor at most, furthest fixed byte}. */
    private long[] field(FieldOp f, List<DecodeOp> ops) {
        SourceLocation at = f.location();
        switch (f.source()) {
            case DecimalSource d -> {
                int digits = (int) d.maxDigits();
                if (d.maxDigits() < 1 || d.maxDigits() > Limits.MAX_DECIMAL_DIGITS) {
                    diagnostics.error(d.location(), "decimal takes 1 to " + Limits.MAX_DECIMAL_DIGITS
                            + " digits (so the value fits in u64), not " + Long.toUnsignedString(d.maxDigits()));
                    digits = 1;
                }
                ops.add(new DecodeOp.Decimal(define(f.target(), IrType.U64), digits, at));
                return new long[] {digits, 0};
            }
            case VarBytesSource v -> {
                IrExpr length = expr(v.length());
                expectType(length, IrType.U64, v.length().location(), "a byte count");
                int max = bound(v.max(), v.location(), "bytes' max", 1);
                ops.add(new DecodeOp.VarBytes(define(f.target(), new IrType.Bytes(max)), length, max, at));
                return new long[] {max, 0};
            }
            case FixedBytesSource b -> {
                int size = bound(b.size(), b.location(), "a byte array size", 1);
                OptionalInt offset = offset(b.offset(), b.location());
                ops.add(new DecodeOp.FixedBytes(define(f.target(), new IrType.Bytes(size)), size, offset, at));
                return offset.isPresent() ? new long[] {0, offset.getAsInt() + (long) size} : new long[] {size, 0};
            }
            case UntilSource u -> {
                nonEmptyDelimiter(u.delimiter(), u.location());
                int max = bound(u.max(), u.location(), "until's max", 1);
                ops.add(new DecodeOp.Until(define(f.target(), new IrType.Bytes(max)), u.delimiter(), max, at));
                return new long[] {max + (long) u.delimiter().length, 0};
            }
            case IntSource i -> {
                OptionalInt offset = offset(i.offset(), i.location());
                IrLocal local = define(f.target(), new IrType.Int(i.byteWidth() * 8));
                ops.add(new DecodeOp.IntField(local, i.byteWidth(), i.order(), offset, at));
                return offset.isPresent() ? new long[] {0, offset.getAsInt() + (long) i.byteWidth()}
                        : new long[] {i.byteWidth(), 0};
            }
        }
    }

    private OptionalInt offset(java.util.OptionalLong offset, SourceLocation at) {
        if (offset.isEmpty()) {
            return OptionalInt.empty();
        }
        return OptionalInt.of(bound(offset.getAsLong(), at, "an offset", 0));
    }

    private void nonEmptyDelimiter(byte[] delimiter, SourceLocation at) {
        if (delimiter.length == 0) {
            diagnostics.error(at, "the delimiter cannot be empty");
        }
    }

    /** A size or count from the source, checked to be in [min, MAX_BYTES]. */
    private int bound(long value, SourceLocation at, String what, int min) {
        if (Long.compareUnsigned(value, min) < 0 || Long.compareUnsigned(value, Limits.MAX_BYTES) > 0) {
            diagnostics.error(at, what + " must be between " + min + " and " + Limits.MAX_BYTES + ", not "
                    + Long.toUnsignedString(value));
            return Math.max(min, 1);
        }
        return (int) value;
    }

    // ------------------------------------------------------------------ encode

    private Optional<EncodeItem> encodeItem(Ast.EncodeItem item) {
        switch (item) {
            case LiteralItem l -> {
                return Optional.of(new EncodeItem.Literal(l.bytes()));
            }
            case ValueItem v -> {
                IrExpr value = expr(new NameRef(v.name(), v.location()));
                if (value.type() instanceof IrType.Int) {
                    diagnostics.error(v.location(), v.name().text().length(), "'" + v.name().text()
                            + "' is an integer; say how to encode it: decimal(" + v.name().text() + ") or u32be("
                            + v.name().text() + ")");
                    return Optional.empty();
                }
                if (value.type() instanceof IrType.Bool) {
                    diagnostics.error(v.location(), "'" + v.name().text() + "' is a condition and cannot be encoded");
                    return Optional.empty();
                }
                return known(value) ? Optional.of(new EncodeItem.Value(value)) : Optional.empty();
            }
            case DecimalItem d -> {
                IrExpr value = expr(d.value());
                expectType(value, IrType.U64, d.value().location(), "decimal()");
                return Optional.of(new EncodeItem.Decimal(value));
            }
            case IntItem i -> {
                IrExpr value = expr(i.value());
                expectType(value, IrType.U64, i.value().location(), "an integer encoding");
                return Optional.of(new EncodeItem.IntBinary(value, i.byteWidth(), i.order()));
            }
        }
    }

    // ------------------------------------------------------------------ maps

    private Optional<IrMap> map(Name name) {
        IrMap m = maps.get(name.text());
        if (m == null) {
            diagnostics.error(name.location(), name.text().length(), "unknown map '" + name.text() + "'"
                    + Suggestions.didYouMean(name.text(), maps.keySet()));
            return Optional.empty();
        }
        usedMaps.add(m.name());
        return Optional.of(m);
    }

    private boolean notLog(IrMap m, Name name, String operation) {
        if (m.kind() == MapKind.LOG) {
            diagnostics.error(name.location(), "'" + m.name() + "' is a log map: entries are only appended, so "
                    + operation + " is not allowed");
            return false;
        }
        return true;
    }

    private void checkKey(IrMap m, IrExpr key, SourceLocation at) {
        fits(key, m.keyType(), at, "key of map '" + m.name() + "'");
    }

    private void checkValue(IrMap m, IrExpr value, SourceLocation at) {
        fits(value, m.valueType(), at, "value of map '" + m.name() + "'");
    }

    /** Whether {@code e} can be stored as {@code slot}: bytes must fit, integer constants must fit. */
    private void fits(IrExpr e, IrType slot, SourceLocation at, String what) {
        if (!known(e)) {
            return;
        }
        switch (slot) {
            case IrType.Bytes b -> {
                if (!(e.type() instanceof IrType.Bytes actual)) {
                    diagnostics.error(at, "the " + what + " is " + b + " but this is " + describe(e.type()));
                } else if (actual.maxLength() > b.maxLength()) {
                    diagnostics.error(at, "this can be up to " + actual.maxLength() + " bytes but the " + what
                            + " holds at most " + b.maxLength());
                }
            }
            case IrType.Int i -> {
                if (!(e.type() instanceof IrType.Int)) {
                    diagnostics.error(at, "the " + what + " is " + i + " but this is " + describe(e.type()));
                } else if (e instanceof IrExpr.IntConst c && i.bits() < 64 && Long.compareUnsigned(c.value(),
                        (1L << i.bits()) - 1) > 0) {
                    diagnostics.error(at, Long.toUnsignedString(c.value()) + " does not fit in the " + what
                            + " (" + i + ")");
                }
            }
            case IrType.Bool b -> { }
        }
    }

    private static String kind(IrMap m) {
        return m.kind().name().toLowerCase(java.util.Locale.ROOT);
    }

    // ------------------------------------------------------------------ names

    private IrLocal define(Name name, IrType type) {
        Optional<SourceLocation> earlier = scope.earlierDefinition(name.text());
        IrLocal local = new IrLocal(name.text(), type);
        if (earlier.isPresent()) {
            diagnostics.error(name.location(), name.text().length(), "'" + name.text()
                    + "' is already defined at line " + earlier.get().line() + " (values are assigned once)");
            // Visible from here on anyway, so its uses are not reported again as out of scope.
            scope.define(local, earlier.get());
            return local;
        }
        if (maps.containsKey(name.text())) {
            diagnostics.error(name.location(), name.text().length(), "'" + name.text()
                    + "' is the name of a map; choose another name for this value");
        }
        scope.define(local, name.location());
        return local;
    }

    // ------------------------------------------------------------------ expressions

    private IrExpr expr(Expr e) {
        return switch (e) {
            case IntLit i -> new IrExpr.IntConst(i.value());
            case BoolLit b -> new IrExpr.BoolConst(b.value());
            case BytesLit b -> new IrExpr.BytesConst(b.value());
            case NameRef n -> {
                Optional<IrLocal> local = scope.resolve(n.name().text());
                if (local.isPresent()) {
                    yield new IrExpr.LocalRef(local.get());
                }
                String text = n.name().text();
                if (scope.definedOutOfScope(text)) {
                    diagnostics.error(n.location(), text.length(), "'" + text
                            + "' is defined inside a branch and is not visible here");
                } else if (maps.containsKey(text)) {
                    diagnostics.error(n.location(), text.length(), "'" + text
                            + "' is a map; read it with 'x = lookup " + text + "[key] else pass;'");
                } else {
                    Optional<SourceLocation> later = laterDefinition(decl.body(), text);
                    diagnostics.error(n.location(), text.length(), later.isPresent()
                            ? "'" + text + "' is used before it is defined (at line " + later.get().line() + ")"
                            : "unknown name '" + text + "'" + Suggestions.didYouMean(text, scope.visibleNames()));
                }
                yield new IrExpr.LocalRef(new IrLocal(text, UNKNOWN));
            }
            case LenCall l -> {
                IrExpr operand = expr(l.operand());
                if (known(operand) && !(operand.type() instanceof IrType.Bytes)) {
                    diagnostics.error(l.operand().location(), "len() takes bytes, not " + describe(operand.type()));
                }
                yield new IrExpr.Length(operand);
            }
            case NotExpr n -> {
                IrExpr operand = expr(n.operand());
                expectType(operand, IrType.BOOL, n.operand().location(), "'not'");
                yield new IrExpr.Not(operand);
            }
            case BinaryExpr b -> binary(b);
        };
    }

    private IrExpr binary(BinaryExpr b) {
        BinaryOp op = operator(b.op());
        IrExpr left = expr(b.left());
        IrExpr right = expr(b.right());
        if (!known(left) || !known(right)) {
            // An operand already has an error: the result is unknown too. (A Binary is only built from
            // known operands, so known() needs no walk of the tree: a long 'a + b + ...' stays linear.)
            return new IrExpr.LocalRef(new IrLocal("<error>", UNKNOWN));
        }
        if (op.isLogical()) {
            expectType(left, IrType.BOOL, b.left().location(), "'" + op.symbol() + "'");
            expectType(right, IrType.BOOL, b.right().location(), "'" + op.symbol() + "'");
        } else if (op.isArithmetic()) {
            expectType(left, IrType.U64, b.left().location(), "'" + op.symbol() + "'");
            expectType(right, IrType.U64, b.right().location(), "'" + op.symbol() + "'");
            if ((op == BinaryOp.SHL || op == BinaryOp.SHR) && right instanceof IrExpr.IntConst c
                    && Long.compareUnsigned(c.value(), 64) >= 0) {
                diagnostics.warning(b.location(), "shifting by " + Long.toUnsignedString(c.value())
                        + " always gives 0");
            }
        } else {
            boolean bytes = left.type() instanceof IrType.Bytes;
            boolean sameKind = left.type().getClass() == right.type().getClass();
            if (!sameKind) {
                diagnostics.error(b.location(), b.op().length(), "cannot compare " + describe(left.type()) + " with "
                        + describe(right.type()));
            } else if (bytes && op != BinaryOp.EQ && op != BinaryOp.NE) {
                diagnostics.error(b.location(), b.op().length(), "bytes can only be compared with == and !=");
            } else if (left.type() instanceof IrType.Bool && op != BinaryOp.EQ && op != BinaryOp.NE) {
                diagnostics.error(b.location(), b.op().length(), "conditions can only be compared with == and !=");
            }
        }
        return new IrExpr.Binary(op, left, right);
    }

    private static BinaryOp operator(String op) {
        return switch (op) {
            case "+" -> BinaryOp.ADD;
            case "-" -> BinaryOp.SUB;
            case "*" -> BinaryOp.MUL;
            case "&" -> BinaryOp.BIT_AND;
            case "|" -> BinaryOp.BIT_OR;
            case "^" -> BinaryOp.BIT_XOR;
            case "<<" -> BinaryOp.SHL;
            case ">>" -> BinaryOp.SHR;
            case "==" -> BinaryOp.EQ;
            case "!=" -> BinaryOp.NE;
            case "<" -> BinaryOp.LT;
            case "<=" -> BinaryOp.LE;
            case ">" -> BinaryOp.GT;
            case ">=" -> BinaryOp.GE;
            case "and" -> BinaryOp.AND;
            case "or" -> BinaryOp.OR;
            default -> throw new IllegalStateException("operator " + op);
        };
    }

    /** Reports when {@code e} is not of the family of {@code expected} (any integer counts as U64). */
    private void expectType(IrExpr e, IrType expected, SourceLocation at, String where) {
        if (!known(e)) {
            return;
        }
        boolean ok = switch (expected) {
            case IrType.Int i -> e.type() instanceof IrType.Int;
            case IrType.Bool b -> e.type() instanceof IrType.Bool;
            case IrType.Bytes b -> e.type() instanceof IrType.Bytes;
        };
        if (!ok) {
            String want = expected instanceof IrType.Int ? "an integer" : expected instanceof IrType.Bool
                    ? "true or false" : "bytes";
            String hint = expected instanceof IrType.Bool && e.type() instanceof IrType.Int
                    ? "; compare it, e.g. '!= 0'" : "";
            diagnostics.error(at, where + " needs " + want + ", not " + describe(e.type()) + hint);
        }
    }

    /** Where {@code name} is defined in {@code body} (searched when a use comes before it). */
    private static Optional<SourceLocation> laterDefinition(List<Stmt> body, String name) {
        for (Stmt s : body) {
            Optional<SourceLocation> found = switch (s) {
                case LetStmt l -> defines(l.target(), name);
                case LookupStmt l -> defines(l.target(), name);
                case AppendStmt a -> defines(a.target(), name);
                case DecodeStmt d -> d.ops().stream().flatMap(op -> op instanceof FieldOp f
                        ? defines(f.target(), name).stream() : java.util.stream.Stream.empty()).findFirst();
                case IfStmt i -> laterDefinition(i.then(), name)
                        .or(() -> i.otherwise().flatMap(o -> laterDefinition(o, name)));
                default -> Optional.empty();
            };
            if (found.isPresent()) {
                return found;
            }
        }
        return Optional.empty();
    }

    private static Optional<SourceLocation> defines(Name target, String name) {
        return target.text().equals(name) ? Optional.of(target.location()) : Optional.empty();
    }

    private static boolean known(IrExpr e) {
        return switch (e) {
            case IrExpr.LocalRef r -> r.local().type() != UNKNOWN;
            case IrExpr.Binary b -> true;
            default -> true;
        };
    }

    static String describe(IrType t) {
        return switch (t) {
            case IrType.Int i -> "an integer (" + i + ")";
            case IrType.Bytes b -> "bytes (up to " + b.maxLength() + ")";
            case IrType.Bool b -> "a condition";
        };
    }
}
