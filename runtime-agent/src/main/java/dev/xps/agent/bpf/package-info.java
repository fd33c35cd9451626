/**
 * A small, typed binding over libbpf 1.1's stable API through {@code java.lang.foreign} (no JNI, no
 * {@code bpftool}): {@link dev.xps.agent.bpf.BpfObject} (open, configure, load an ELF object),
 * {@link dev.xps.agent.bpf.BpfMap}, {@link dev.xps.agent.bpf.BpfProgram}, {@link dev.xps.agent.bpf.BpfLink}
 * (handles owning a file descriptor; from an object, a pin or an id), {@link dev.xps.agent.bpf.RingBuffer},
 * {@link dev.xps.agent.bpf.BpfStats}, {@link dev.xps.agent.bpf.NetNs} and {@link dev.xps.agent.bpf.Preflight}.
 *
 * <p>Every failure is a {@link dev.xps.agent.bpf.BpfException} naming the operation, its subject and the
 * errno ({@code bpf_object__load(redis.bpf.o): EACCES: Permission denied}), carrying what libbpf printed
 * meanwhile, including the kernel verifier's log ({@link dev.xps.agent.bpf.LibbpfLog} captures libbpf's
 * output per thread through an upcall). A machine that cannot run the kernel target fails with a
 * {@link dev.xps.agent.bpf.PreflightException} subclass naming the one missing thing.
 *
 * <p>The JVM needs native access for this package: {@code --enable-native-access=ALL-UNNAMED} (the agent's
 * jar manifest says {@code Enable-Native-Access: ALL-UNNAMED}).
 */
package dev.xps.agent.bpf;
