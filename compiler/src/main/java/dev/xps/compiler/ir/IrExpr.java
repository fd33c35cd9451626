package dev.xps.compiler.ir;

/**
 * Typed expressions. Integer arithmetic is unsigned 64-bit and wraps (every target can do that
 * exactly); comparisons of integers are unsigned; bytes compare by length and content.
 */
public sealed interface IrExpr {
    IrType type();

    record IntConst(long value) implements IrExpr {
        public IrType type() {
            return IrType.U64;
        }
    }

    record BoolConst(boolean value) implements IrExpr {
        public IrType type() {
            return IrType.BOOL;
        }
    }

    record BytesConst(byte[] value) implements IrExpr {
        public IrType type() {
            return new IrType.Bytes(value.length);
        }
    }

    record LocalRef(IrLocal local) implements IrExpr {
        public IrType type() {
            return local.type();
        }
    }

    /** The length of a bytes value, as u64. */
    record Length(IrExpr operand) implements IrExpr {
        public IrType type() {
            return IrType.U64;
        }
    }

    record Not(IrExpr operand) implements IrExpr {
        public IrType type() {
            return IrType.BOOL;
        }
    }

    record Binary(BinaryOp op, IrExpr left, IrExpr right) implements IrExpr {
        public IrType type() {
            return op.isArithmetic() ? IrType.U64 : IrType.BOOL;
        }
    }

    enum BinaryOp {
        ADD("+"), SUB("-"), MUL("*"), BIT_AND("&"), BIT_OR("|"), BIT_XOR("^"), SHL("<<"), SHR(">>"),
        EQ("=="), NE("!="), LT("<"), LE("<="), GT(">"), GE(">="),
        AND("and"), OR("or");

        private final String symbol;

        BinaryOp(String symbol) {
            this.symbol = symbol;
        }

        public String symbol() {
            return symbol;
        }

        public boolean isArithmetic() {
            return ordinal() <= SHR.ordinal();
        }

        public boolean isComparison() {
            return ordinal() >= EQ.ordinal() && ordinal() <= GE.ordinal();
        }

        public boolean isLogical() {
            return this == AND || this == OR;
        }
    }
}
