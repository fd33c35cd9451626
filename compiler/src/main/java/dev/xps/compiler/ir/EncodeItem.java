package dev.xps.compiler.ir;

/** One piece of a response, appended in order. */
public sealed interface EncodeItem {
    /** The most bytes this item can append. */
    int maxLength();

    record Literal(byte[] bytes) implements EncodeItem {
        public int maxLength() {
            return bytes.length;
        }
    }

    record Value(IrExpr bytes) implements EncodeItem {
        public int maxLength() {
            return ((IrType.Bytes) bytes.type()).maxLength();
        }
    }

    /** An unsigned integer in ASCII decimal, no padding. */
    record Decimal(IrExpr value) implements EncodeItem {
        public int maxLength() {
            return 20;
        }
    }

    /** An integer in binary, truncated to {@code byteWidth} bytes. */
    record IntBinary(IrExpr value, int byteWidth, ByteOrder order) implements EncodeItem {
        public int maxLength() {
            return byteWidth;
        }
    }
}
