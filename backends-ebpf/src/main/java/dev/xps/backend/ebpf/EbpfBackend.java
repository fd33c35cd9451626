package dev.xps.backend.ebpf;

import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.target.Backend;
import dev.xps.compiler.target.Capabilities;
import dev.xps.compiler.target.Feature;
import dev.xps.compiler.target.GeneratedFile;
import java.util.List;

/**
 * Linux kernel: sk_skb/sock_ops for TCP, XDP for UDP (eBPF C, built with clang)
 *
 * <p>Declared, not yet generating: the capability model below is what the compiler checks
 * handlers against today; code generation arrives with the kernel-target issue.
 */
public final class EbpfBackend implements Backend {
    @Override
    public String name() {
        return "ebpf";
    }

    @Override
    public String description() {
        return "Linux kernel: sk_skb/sock_ops for TCP, XDP for UDP (eBPF C, built with clang) (code generation: the kernel-target issue)";
    }

    @Override
    public Capabilities capabilities() {
        // The verifier bounds every loop and the 512-byte stack; large values go through per-CPU scratch maps.
        return Capabilities.allExcept(Feature.CONSENSUS).withLimits(4096, 4096, 256, 4096, 1L << 26);
    }

    @Override
    public boolean generatesCode() {
        return false;
    }

    @Override
    public List<GeneratedFile> generate(IrModule module, Diagnostics diagnostics) {
        throw new UnsupportedOperationException("the ebpf backend does not generate code yet");
    }
}
