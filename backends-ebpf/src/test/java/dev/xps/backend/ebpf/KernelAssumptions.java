package dev.xps.backend.ebpf;

import org.junit.jupiter.api.Assumptions;

/**
 * Kernel tests run wherever the machine can run them (root, BPF, clang, bpftool: this project's
 * own machines and CI) and are skipped elsewhere with the reason printed, never silently.
 */
final class KernelAssumptions {
    private KernelAssumptions() {}

    static void requireKernel() {
        KernelEnvironment.unavailable().ifPresent(why -> {
            System.out.println("SKIPPED kernel tests: " + why);
            Assumptions.abort(why);
        });
    }
}
