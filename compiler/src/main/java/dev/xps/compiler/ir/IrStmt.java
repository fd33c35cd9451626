package dev.xps.compiler.ir;

import dev.xps.compiler.diag.SourceLocation;
import java.util.List;
import java.util.Optional;

/** Handler statements. Control flow is structured: sequences, if/else, and return. */
public sealed interface IrStmt {
    SourceLocation location();

    record Decode(List<DecodeOp> ops, Verdict onMalformed, SourceLocation location) implements IrStmt {}

    record Let(IrLocal target, IrExpr value, SourceLocation location) implements IrStmt {}

    /** target = map[key]; on a miss the handler returns {@code onMiss}. */
    record Lookup(IrLocal target, IrMap map, IrExpr key, Verdict onMiss, SourceLocation location) implements IrStmt {}

    /**
     * map[key] = value. {@code onFull} is taken when a new key does not fit; without it a failed
     * insert is ignored (the key then stays absent, which is always safe: misses pass).
     */
    record Update(IrMap map, IrExpr key, IrExpr value, Optional<Verdict> onFull,
                  SourceLocation location) implements IrStmt {}

    record Delete(IrMap map, IrExpr key, SourceLocation location) implements IrStmt {}

    /** target = index of the new entry (from 1); when the log is full the handler returns {@code onFull}. */
    record Append(IrLocal target, IrMap map, IrExpr value, Verdict onFull, SourceLocation location) implements IrStmt {}

    record If(IrExpr condition, List<IrStmt> then, List<IrStmt> otherwise, SourceLocation location) implements IrStmt {}

    record Encode(List<EncodeItem> items, SourceLocation location) implements IrStmt {}

    record Return(Verdict verdict, SourceLocation location) implements IrStmt {}
}
