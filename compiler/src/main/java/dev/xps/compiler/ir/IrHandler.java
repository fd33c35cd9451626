package dev.xps.compiler.ir;

import dev.xps.compiler.diag.SourceLocation;
import java.util.List;

/**
 * A handler body. {@code maxMessageBytes} is the most bytes one message can span (0 when the
 * handler has no decode block: it then takes the whole received segment); {@code maxResponseBytes}
 * bounds what its encode statements can produce. A write handler only ever returns PASS.
 */
public record IrHandler(String name, boolean write, List<IrLocal> locals, List<IrStmt> body,
                        int maxMessageBytes, int maxResponseBytes, SourceLocation location) {}
