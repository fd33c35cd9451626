package dev.xps.backend.ebpf;

import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.diag.SourceLocation;
import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.target.Backend;
import dev.xps.compiler.target.Capabilities;
import dev.xps.compiler.target.GeneratedFile;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code --target ebpf}: the Linux kernel. Per module, under {@code ebpf/<base>/}:
 * <ul>
 *   <li>{@code <base>.bpf.c}: the handlers and entry programs in libbpf-style C: TCP entry points
 *       as sock_ops + sk_skb stream verdict + sk_msg programs over a SOCKHASH, UDP entry points as
 *       XDP programs; each handler a program of its own, reached by tail call;
 *   <li>{@code xps_runtime.h}: what they share (decode steps, responses, checksums);
 *   <li>{@code <base>.manifest.json}: programs, attach points and map layouts for the agent
 *       (format: docs/ebpf-target.md);
 *   <li>{@code <base>.bpf.o}: the object built by clang, when clang and libbpf's headers are here
 *       (otherwise a warning says so and only the sources are written).
 * </ul>
 */
public final class EbpfBackend implements Backend {
    @Override
    public String name() {
        return "ebpf";
    }

    @Override
    public String description() {
        return "Linux kernel: sock_ops + sk_skb for TCP, XDP for UDP (eBPF C, built with clang); tests run in the "
                + "kernel (XDP test runs; TCP over loopback in a private netns)";
    }

    /**
     * Everything, consensus blocks included (ConsensusGenerator), each proven to load on Linux 6.18 by the
     * tests. The limits:
     * a handler reads at most 16 KiB of a message (half of a 32 KiB per-CPU window, so masked
     * offsets stay in bounds); responses live in a 16 KiB per-CPU buffer; a BPF hash key is at
     * most 512 bytes (bytes keys take 4 + N rounded up to 8); values are copied by bounded loops
     * the verifier walks, so they stay at 4 KiB; map capacities are what the kernel accepts in
     * max_entries with room for a log's head slot.
     */
    @Override
    public Capabilities capabilities() {
        return Capabilities.allExcept()
                .withLimits(CGenerator.MAX_READS, CGenerator.MAX_RESPONSE, 256, 4096, 1L << 26);
    }

    @Override
    public boolean generatesCode() {
        return true;
    }

    @Override
    public List<GeneratedFile> generate(IrModule module, Diagnostics diagnostics) {
        Plan plan = Plan.of(module);
        CGenerator generator = new CGenerator(plan, diagnostics);
        Optional<String> source = generator.generate();
        if (source.isEmpty()) {
            return List.of();
        }
        String base = module.baseName();
        String dir = "ebpf/" + base + "/";
        String header = CGenerator.runtimeHeader();
        List<GeneratedFile> files = new ArrayList<>();
        files.add(GeneratedFile.text(dir + base + ".bpf.c", source.get()));
        files.add(GeneratedFile.text(dir + "xps_runtime.h", header));
        files.add(GeneratedFile.text(dir + base + ".manifest.json",
                Manifest.write(plan, generator.window(), generator.response())));
        SourceLocation file = new SourceLocation(module.sourceFile(), 0, 0);
        Optional<Clang.Toolchain> clang = Clang.toolchain();
        if (clang.isEmpty()) {
            diagnostics.warning(file, "target 'ebpf': " + Clang.whyUnavailable() + "; wrote the C sources only (build "
                    + "them with: clang " + String.join(" ", Clang.FLAGS) + " -I" + dir + " -c " + dir + base
                    + ".bpf.c)");
            files.addAll(ConsensusGenerator.files(module, dir, diagnostics, clang));
            return files;
        }
        Map<String, String> sources = new LinkedHashMap<>();
        sources.put(base + ".bpf.c", source.get());
        sources.put("xps_runtime.h", header);
        switch (Clang.compile(clang.get(), sources, base + ".bpf.c")) {
            case Clang.Result.Built b -> files.add(new GeneratedFile(dir + base + ".bpf.o", b.object()));
            case Clang.Result.Failed f -> {
                diagnostics.error(file, "internal compiler error: clang rejected the generated eBPF C for target "
                        + "'ebpf' (a bug in xpsc, please report it):\n" + f.output().strip());
                return List.of();
            }
        }
        files.addAll(ConsensusGenerator.files(module, dir, diagnostics, clang));
        return files;
    }

    @Override
    public Optional<TestRunner> testRunner() {
        return Optional.of(new EbpfTestRunner());
    }
}
