package dev.xps.backend.p4;

import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.target.Backend;
import dev.xps.compiler.target.Capabilities;
import dev.xps.compiler.target.Feature;
import dev.xps.compiler.target.GeneratedFile;
import java.util.List;

/**
 * BMv2 simple_switch, P4-16 v1model: fixed-offset headers, exact-match tables
 *
 * <p>Declared, not yet generating: the capability model below is what the compiler checks
 * handlers against today; code generation arrives with the P4-targets issue.
 */
public final class Bmv2Backend implements Backend {
    @Override
    public String name() {
        return "p4-bmv2";
    }

    @Override
    public String description() {
        return "BMv2 simple_switch, P4-16 v1model: fixed-offset headers, exact-match tables (code generation: the P4-targets issue)";
    }

    @Override
    public Capabilities capabilities() {
        // P4 parsers extract fixed headers: no byte-by-byte text parsing, no loops, no RST crafting.
        return Capabilities.allExcept(Feature.VARIABLE_LENGTH_FIELDS, Feature.DECIMAL_TEXT,
                Feature.CASE_INSENSITIVE_MATCH, Feature.EXPLICIT_FRAME, Feature.LOG_MAPS, Feature.RESET_VERDICT,
                Feature.CONSENSUS).withLimits(256, 256, 64, 64, 1L << 20);
    }

    @Override
    public boolean generatesCode() {
        return false;
    }

    @Override
    public List<GeneratedFile> generate(IrModule module, Diagnostics diagnostics) {
        throw new UnsupportedOperationException("the p4-bmv2 backend does not generate code yet");
    }
}
