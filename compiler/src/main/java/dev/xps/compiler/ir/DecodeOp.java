package dev.xps.compiler.ir;

import dev.xps.compiler.diag.SourceLocation;
import java.util.OptionalInt;

/**
 * One step of a decode block. Sequential steps read at the cursor and advance it; steps with an
 * {@code at} offset read at a fixed offset from the message start and leave the cursor alone.
 * A step that needs bytes beyond the end of the received data makes the message
 * <em>incomplete</em>; a step whose bytes do not match makes it <em>malformed</em>
 * (see docs/language.md, "Messages").
 */
public sealed interface DecodeOp {
    SourceLocation location();

    /** The literal bytes at the cursor (ASCII case folded when {@code caseInsensitive}). */
    record Expect(byte[] literal, boolean caseInsensitive, SourceLocation location) implements DecodeOp {}

    record Skip(int count, SourceLocation location) implements DecodeOp {}

    record SkipVar(IrExpr count, int max, SourceLocation location) implements DecodeOp {}

    /** Advance past the first occurrence of {@code delimiter}, looking at most {@code max} bytes before it. */
    record SkipUntil(byte[] delimiter, int max, SourceLocation location) implements DecodeOp {}

    /** 1..maxDigits ASCII digits, as u64. */
    record Decimal(IrLocal target, int maxDigits, SourceLocation location) implements DecodeOp {}

    /** {@code length} bytes at the cursor; malformed when length exceeds {@code max}. */
    record VarBytes(IrLocal target, IrExpr length, int max, SourceLocation location) implements DecodeOp {}

    record FixedBytes(IrLocal target, int size, OptionalInt offset, SourceLocation location) implements DecodeOp {}

    /** Bytes up to (not including) {@code delimiter}, at most {@code max} of them; consumes the delimiter. */
    record Until(IrLocal target, byte[] delimiter, int max, SourceLocation location) implements DecodeOp {}

    record IntField(IrLocal target, int byteWidth, ByteOrder order, OptionalInt offset,
                    SourceLocation location) implements DecodeOp {}

    /** A condition on what was decoded so far; false means malformed. */
    record Require(IrExpr condition, SourceLocation location) implements DecodeOp {}

    /** The message is exactly {@code length} bytes long (at most {@code max}). */
    record Frame(IrExpr length, int max, SourceLocation location) implements DecodeOp {}
}
