package dev.xps.compiler.ir;

import dev.xps.compiler.diag.SourceLocation;
import java.util.List;

/** Where packets enter: a handler with its own predicate, or a dispatch that picks a handler. */
public sealed interface IrEntryPoint {
    String name();

    Predicate predicate();

    SourceLocation location();

    record Direct(String name, Predicate predicate, IrHandler handler, SourceLocation location)
            implements IrEntryPoint {}

    /**
     * L7 composability: the {@code length}-byte value at {@code offset} from the message start
     * selects an arm. Integer selectors read the value in {@code order}; bytes selectors compare
     * exactly. A message too short to hold the value is incomplete.
     */
    record Dispatch(String name, Predicate predicate, int offset, int length, ByteOrder order,
                    List<Arm> arms, Target fallback, SourceLocation location) implements IrEntryPoint {}

    record Arm(Selector selector, Target target, SourceLocation location) {}

    sealed interface Selector {
        record IntValue(long value) implements Selector {}

        record BytesValue(byte[] value) implements Selector {}
    }

    sealed interface Target {
        record ToHandler(IrHandler handler) implements Target {}

        record ToVerdict(Verdict verdict) implements Target {}
    }
}
