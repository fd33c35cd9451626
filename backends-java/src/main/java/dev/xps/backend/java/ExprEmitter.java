package dev.xps.backend.java;

import com.palantir.javapoet.CodeBlock;
import dev.xps.compiler.ir.IrExpr;
import dev.xps.compiler.ir.IrExpr.BinaryOp;
import dev.xps.compiler.ir.IrLocal;
import dev.xps.compiler.ir.IrType;
import dev.xps.runtime.U64;
import java.util.Arrays;
import java.util.Map;

/**
 * IR expressions as Java expressions with u64 meaning: integers are {@code long} (whose
 * {@code + - * & | ^} already wrap like u64), comparisons go through {@link Long#compareUnsigned},
 * shifts through {@link U64} (Java would take the count modulo 64), bytes compare with
 * {@link Arrays#equals(byte[], byte[])}. Parentheses follow Java's precedence, plus a few where a
 * reader would otherwise have to remember it.
 */
final class ExprEmitter {
    // Java operator precedence, higher binds tighter.
    private static final int PRIMARY = 16;
    private static final int UNARY = 14;

    private final Map<IrLocal, String> locals;
    private final Constants constants;

    /**
     * A rendered expression: its precedence, and whether Java types it {@code int} (a byte length)
     * rather than {@code long}.
     */
    private record Js(CodeBlock code, int precedence, boolean javaInt, BinaryOp op) {
        static Js primary(CodeBlock code) {
            return new Js(code, PRIMARY, false, null);
        }
    }

    /** {@code locals}: the Java name of every local; {@code constants}: already holds every literal. */
    ExprEmitter(Map<IrLocal, String> locals, Constants constants) {
        this.locals = locals;
        this.constants = constants;
    }

    CodeBlock emit(IrExpr e) {
        return render(e).code();
    }

    private Js render(IrExpr e) {
        return switch (e) {
            case IrExpr.IntConst c -> Js.primary(CodeBlock.of("$L", longLiteral(c.value())));
            case IrExpr.BoolConst b -> Js.primary(CodeBlock.of("$L", b.value()));
            case IrExpr.BytesConst b -> Js.primary(CodeBlock.of("$N", constants.named(b.value())));
            case IrExpr.LocalRef r -> Js.primary(CodeBlock.of("$N", name(r.local())));
            case IrExpr.Length l -> new Js(CodeBlock.of("$L.length", wrap(render(l.operand()), PRIMARY)), PRIMARY,
                    true, null);
            case IrExpr.Not n -> new Js(CodeBlock.of("!$L", wrap(render(n.operand()), UNARY)), UNARY, false, null);
            case IrExpr.Binary b -> binary(b);
        };
    }

    private Js binary(IrExpr.Binary b) {
        Js left = render(b.left());
        Js right = render(b.right());
        BinaryOp op = b.op();
        return switch (op) {
            case SHL, SHR -> Js.primary(CodeBlock.of("$T.$L($L, $L)", U64.class, op == BinaryOp.SHL ? "shl" : "shr",
                    left.code(), right.code()));
            case LT, LE, GT, GE -> new Js(CodeBlock.of("$T.compareUnsigned($L, $L) $L 0", Long.class, left.code(),
                    right.code(), op.symbol()), 10, false, op);
            case EQ, NE -> {
                if (b.left().type() instanceof IrType.Bytes) {
                    CodeBlock call = CodeBlock.of("$T.equals($L, $L)", Arrays.class, left.code(), right.code());
                    yield op == BinaryOp.EQ ? Js.primary(call) : new Js(CodeBlock.of("!$L", call), UNARY, false, null);
                }
                yield infix(op, op.symbol(), 9, left, right, false);
            }
            case MUL -> {
                // int * int would overflow in 32 bits before widening.
                Js l = left.javaInt() && right.javaInt()
                        ? new Js(CodeBlock.of("(long) $L", wrap(left, UNARY)), UNARY, false, null) : left;
                yield infix(op, "*", 13, l, right, false);
            }
            case ADD, SUB -> infix(op, op.symbol(), 12, left, right, left.javaInt() && right.javaInt());
            case BIT_AND -> infix(op, "&", 8, left, right, left.javaInt() && right.javaInt());
            case BIT_XOR -> infix(op, "^", 7, left, right, left.javaInt() && right.javaInt());
            case BIT_OR -> infix(op, "|", 6, left, right, left.javaInt() && right.javaInt());
            case AND -> infix(op, "&&", 5, left, right, false);
            case OR -> infix(op, "||", 4, left, right, false);
        };
    }

    private static Js infix(BinaryOp op, String symbol, int precedence, Js left, Js right, boolean javaInt) {
        CodeBlock l = operand(op, left, precedence, false);
        CodeBlock r = operand(op, right, precedence + 1, true);
        return new Js(CodeBlock.of("$L $L $L", l, symbol, r), precedence, javaInt, op);
    }

    private static CodeBlock operand(BinaryOp parent, Js child, int needed, boolean right) {
        boolean clarity = child.op() != null && child.op() != parent && (
                isBitwise(parent)
                || (parent.isLogical() && child.op().isLogical())
                || ((parent == BinaryOp.EQ || parent == BinaryOp.NE) && child.op().isComparison()));
        return clarity ? CodeBlock.of("($L)", child.code()) : wrap(child, needed);
    }

    private static boolean isBitwise(BinaryOp op) {
        return op == BinaryOp.BIT_AND || op == BinaryOp.BIT_OR || op == BinaryOp.BIT_XOR;
    }

    private static CodeBlock wrap(Js js, int needed) {
        return js.precedence() < needed ? CodeBlock.of("($L)", js.code()) : js.code();
    }

    private String name(IrLocal local) {
        String name = locals.get(local);
        if (name == null) {
            throw new IllegalStateException("local '" + local.name() + "' used before it is defined");
        }
        return name;
    }

    /** {@code 42L}; values of 2^63 and above (negative as a long) in hex. */
    static String longLiteral(long value) {
        return value >= 0 ? value + "L" : "0x" + Long.toHexString(value).toUpperCase(java.util.Locale.ROOT) + "L";
    }
}
