package dev.xps.stack.sample;

import dev.xps.runtime.EntryPoint;
import dev.xps.runtime.MapSpec;
import dev.xps.runtime.XpsProgram;
import java.util.List;
import java.util.Objects;

/**
 * The baseline for benchmarks ({@code bin/xps-kv --no-fast-path}): the same program with its entry
 * points hidden. The program is still built (its maps are opened in the store, so the service runs
 * over exactly the same map), but no segment finds an entry point, so the stack passes every
 * segment to the service ({@code NO_ENTRY} in the observer) without running a handler — neither
 * the answering handlers nor the write handlers. That is safe for the samples: {@link KvService}
 * stores SET/DEL into the map itself, and {@link HttpService} answers POST with the same 405 the
 * fast path sends (PUT gets 405 too instead of a reset).
 */
final class NoFastPath implements XpsProgram {
    private final XpsProgram program;

    NoFastPath(XpsProgram program) {
        this.program = Objects.requireNonNull(program);
    }

    /** The wrapped program, for its entry points (which port the handlers would see). */
    XpsProgram program() {
        return program;
    }

    @Override
    public String sourceFile() {
        return program.sourceFile();
    }

    @Override
    public List<MapSpec> maps() {
        return program.maps();
    }

    @Override
    public List<EntryPoint> entryPoints() {
        return List.of();
    }
}
