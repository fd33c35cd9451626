package dev.xps.backend.nfp;

import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.target.Backend;
import dev.xps.compiler.target.Capabilities;
import dev.xps.compiler.target.Feature;
import dev.xps.compiler.target.GeneratedFile;
import java.util.List;

/**
 * Netronome Agilio: P4 predicates and dispatch, Micro-C sandbox handler bodies
 *
 * <p>Declared, not yet generating: the capability model below is what the compiler checks
 * handlers against today; code generation arrives with the P4-targets issue.
 */
public final class NfpBackend implements Backend {
    @Override
    public String name() {
        return "nfp";
    }

    @Override
    public String description() {
        return "Netronome Agilio: P4 predicates and dispatch, Micro-C sandbox handler bodies (code generation: the P4-targets issue)";
    }

    @Override
    public Capabilities capabilities() {
        // Micro-C has bounded loops, but sandbox functions see only the first bytes of the payload in CTM.
        return Capabilities.allExcept(Feature.LOG_MAPS, Feature.RESET_VERDICT, Feature.CONSENSUS)
                .withLimits(1024, 1024, 64, 1024, 1L << 22);
    }

    @Override
    public boolean generatesCode() {
        return false;
    }

    @Override
    public List<GeneratedFile> generate(IrModule module, Diagnostics diagnostics) {
        throw new UnsupportedOperationException("the nfp backend does not generate code yet");
    }
}
