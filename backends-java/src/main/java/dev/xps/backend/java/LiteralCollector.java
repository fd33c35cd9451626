package dev.xps.backend.java;

import dev.xps.compiler.diag.SourceLocation;
import dev.xps.compiler.ir.DecodeOp;
import dev.xps.compiler.ir.EncodeItem;
import dev.xps.compiler.ir.IrEntryPoint;
import dev.xps.compiler.ir.IrExpr;
import dev.xps.compiler.ir.IrHandler;
import dev.xps.compiler.ir.IrStmt;
import java.util.List;

/**
 * Registers every byte-string literal of the module's code with {@link Constants} before any
 * code is emitted, so constant names are settled (and can be kept clear of locals) and each
 * constant's comment names the line that first uses it.
 */
final class LiteralCollector {
    private final Constants constants;

    LiteralCollector(Constants constants) {
        this.constants = constants;
    }

    void dispatch(IrEntryPoint.Dispatch d) {
        for (IrEntryPoint.Arm arm : d.arms()) {
            if (arm.selector() instanceof IrEntryPoint.Selector.BytesValue b) {
                add(b.value(), arm.location());
            }
        }
    }

    void handler(IrHandler h) {
        statements(h.body());
    }

    private void statements(List<IrStmt> body) {
        for (IrStmt s : body) {
            SourceLocation at = s.location();
            switch (s) {
                case IrStmt.Decode d -> d.ops().forEach(this::decodeOp);
                case IrStmt.Let l -> expr(l.value(), at);
                case IrStmt.Lookup l -> expr(l.key(), at);
                case IrStmt.Update u -> {
                    expr(u.key(), at);
                    expr(u.value(), at);
                }
                case IrStmt.Delete d -> expr(d.key(), at);
                case IrStmt.Append a -> expr(a.value(), at);
                case IrStmt.If i -> {
                    expr(i.condition(), at);
                    statements(i.then());
                    statements(i.otherwise());
                }
                case IrStmt.Encode e -> {
                    for (EncodeItem item : e.items()) {
                        switch (item) {
                            case EncodeItem.Literal l -> add(l.bytes(), at);
                            case EncodeItem.Value v -> expr(v.bytes(), at);
                            case EncodeItem.Decimal d -> expr(d.value(), at);
                            case EncodeItem.IntBinary b -> expr(b.value(), at);
                        }
                    }
                }
                case IrStmt.Return r -> { }
            }
        }
    }

    private void decodeOp(DecodeOp op) {
        SourceLocation at = op.location();
        switch (op) {
            case DecodeOp.Expect e -> add(e.literal(), at);
            case DecodeOp.SkipUntil s -> add(s.delimiter(), at);
            case DecodeOp.Until u -> add(u.delimiter(), at);
            case DecodeOp.SkipVar s -> expr(s.count(), at);
            case DecodeOp.VarBytes v -> expr(v.length(), at);
            case DecodeOp.Require r -> expr(r.condition(), at);
            case DecodeOp.Frame f -> expr(f.length(), at);
            case DecodeOp.Skip s -> { }
            case DecodeOp.Decimal d -> { }
            case DecodeOp.FixedBytes f -> { }
            case DecodeOp.IntField f -> { }
        }
    }

    private void expr(IrExpr e, SourceLocation at) {
        switch (e) {
            case IrExpr.BytesConst b -> add(b.value(), at);
            case IrExpr.Binary b -> {
                expr(b.left(), at);
                expr(b.right(), at);
            }
            case IrExpr.Not n -> expr(n.operand(), at);
            case IrExpr.Length l -> expr(l.operand(), at);
            case IrExpr.IntConst c -> { }
            case IrExpr.BoolConst c -> { }
            case IrExpr.LocalRef r -> { }
        }
    }

    private void add(byte[] bytes, SourceLocation at) {
        constants.of(bytes, Comments.at(at));
    }
}
