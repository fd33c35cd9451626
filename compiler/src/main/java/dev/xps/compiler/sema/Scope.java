package dev.xps.compiler.sema;

import dev.xps.compiler.diag.SourceLocation;
import dev.xps.compiler.ir.IrLocal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The locals of one handler. Names are unique per handler (no shadowing, even across branches)
 * so generated code can use them verbatim; visibility is block-scoped, like Java and C.
 */
final class Scope {
    private final Map<String, SourceLocation> definedAt = new HashMap<>();
    private final Map<String, IrLocal> all = new LinkedHashMap<>();
    private final List<Map<String, IrLocal>> blocks = new ArrayList<>();

    Scope() {
        blocks.add(new HashMap<>());
    }

    void enterBlock() {
        blocks.add(new HashMap<>());
    }

    void exitBlock() {
        blocks.removeLast();
    }

    /** The earlier definition when {@code name} is already defined in this handler. */
    Optional<SourceLocation> earlierDefinition(String name) {
        return Optional.ofNullable(definedAt.get(name));
    }

    void define(IrLocal local, SourceLocation at) {
        definedAt.put(local.name(), at);
        all.put(local.name(), local);
        blocks.getLast().put(local.name(), local);
    }

    Optional<IrLocal> resolve(String name) {
        for (int i = blocks.size() - 1; i >= 0; i--) {
            IrLocal local = blocks.get(i).get(name);
            if (local != null) {
                return Optional.of(local);
            }
        }
        return Optional.empty();
    }

    /** The names visible here (for "did you mean"). */
    java.util.Set<String> visibleNames() {
        java.util.Set<String> out = new java.util.HashSet<>();
        blocks.forEach(b -> out.addAll(b.keySet()));
        return out;
    }

    boolean definedOutOfScope(String name) {
        return all.containsKey(name) && resolve(name).isEmpty();
    }

    List<IrLocal> locals() {
        return List.copyOf(all.values());
    }
}
