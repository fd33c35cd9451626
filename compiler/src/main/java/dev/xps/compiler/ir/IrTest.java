package dev.xps.compiler.ir;

import dev.xps.compiler.diag.SourceLocation;
import java.util.List;
import java.util.Optional;

/**
 * An in-language test: steps run in order against fresh maps. Keys and values are already
 * encoded in the map's canonical byte layout (see {@link dev.xps.runtime.MapLayout}).
 */
public record IrTest(String name, List<Step> steps, SourceLocation location) {

    public sealed interface Step {
        SourceLocation location();
    }

    public record Put(IrMap map, byte[] key, byte[] value, SourceLocation location) implements Step {}

    public record Append(IrMap map, byte[] value, SourceLocation location) implements Step {}

    /**
     * Deliver {@code payload} as one received segment to {@code entry}; the segment's outcome must
     * be {@code verdict}, with exactly {@code response} when the verdict is TX.
     */
    public record Send(IrEntryPoint entry, byte[] payload, Verdict verdict, Optional<byte[]> response,
                       SourceLocation location) implements Step {}

    public record ExpectEntry(IrMap map, byte[] key, byte[] value, SourceLocation location) implements Step {}

    public record ExpectMissing(IrMap map, byte[] key, SourceLocation location) implements Step {}
}
