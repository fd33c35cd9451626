package dev.xps.compiler.ir;

/** Value types. Integers are unsigned and computed in 64 bits; bytes carry their maximum length. */
public sealed interface IrType {
    record Int(int bits) implements IrType {
        public Int {
            if (bits != 8 && bits != 16 && bits != 32 && bits != 64) {
                throw new IllegalArgumentException("integer width " + bits);
            }
        }

        public int byteWidth() {
            return bits / 8;
        }

        @Override
        public String toString() {
            return "u" + bits;
        }
    }

    record Bytes(int maxLength) implements IrType {
        @Override
        public String toString() {
            return "bytes[" + maxLength + "]";
        }
    }

    record Bool() implements IrType {
        @Override
        public String toString() {
            return "bool";
        }
    }

    Int U8 = new Int(8);
    Int U16 = new Int(16);
    Int U32 = new Int(32);
    Int U64 = new Int(64);
    Bool BOOL = new Bool();
}
