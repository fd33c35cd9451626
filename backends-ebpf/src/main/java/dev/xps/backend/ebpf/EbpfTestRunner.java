package dev.xps.backend.ebpf;

import dev.xps.backend.ebpf.Plan.EntryPlan;
import dev.xps.backend.ebpf.Plan.MapPlan;
import dev.xps.compiler.diag.SourceLocation;
import dev.xps.compiler.ir.IrMap;
import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.ir.IrTest;
import dev.xps.compiler.ir.MapKind;
import dev.xps.compiler.ir.Protocol;
import dev.xps.compiler.ir.Verdict;
import dev.xps.compiler.target.Backend;
import dev.xps.compiler.target.GeneratedFile;
import dev.xps.compiler.target.TestOutcome;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs a module's in-language tests in this machine's kernel. For every test the module's object
 * is loaded afresh (so every test starts from empty maps) with its programs and maps pinned under
 * {@code /sys/fs/bpf/xpsebpf-test-*}; map set-up and checks go through {@code bpftool map}, in
 * the kernel layout of the manifest (docs/ebpf-target.md); each {@code send} to a UDP entry point is an
 * Ethernet/IPv4/UDP frame run through the entry's XDP program with BPF_PROG_TEST_RUN. An
 * {@code expect tx} needs XDP_TX and a reply with exactly that payload, the request's addresses
 * and ports swapped and valid checksums; {@code expect pass} needs XDP_PASS and the frame
 * untouched; {@code expect drop} and {@code expect reset} need XDP_DROP.
 *
 * <p>Tests that send to a TCP entry point go through {@link TcpHarness}: real sockets in a
 * network namespace of their own, with the entry's sock_ops program attached to a cgroup and its
 * verdict program to the SOCKHASH, as the agent will attach them.
 */
final class EbpfTestRunner implements Backend.TestRunner {
    private static final AtomicInteger RUNS = new AtomicInteger();
    private static final int XDP_DROP = 1;
    private static final int XDP_PASS = 2;
    private static final int XDP_TX = 3;

    @Override
    public Optional<String> unavailableReason() {
        return KernelEnvironment.unavailable();
    }

    @Override
    public List<TestOutcome> run(IrModule module, List<GeneratedFile> files) {
        Optional<String> unavailable = unavailableReason();
        Optional<GeneratedFile> object = files.stream().filter(f -> f.relativePath().endsWith(".bpf.o")).findFirst();
        if (unavailable.isEmpty() && object.isEmpty()) {
            unavailable = Optional.of("no BPF object was built for " + module.sourceFile());
        }
        if (unavailable.isPresent()) {
            String why = unavailable.get();
            return module.tests().stream().map(t -> new TestOutcome(t.name(), t.location(), false,
                    "cannot run in the kernel: " + why)).toList();
        }
        Plan plan = Plan.of(module);
        Path work = null;
        TcpHarness harness = null;
        String name = "xpsebpf-test-" + ProcessHandle.current().pid() + "-" + RUNS.incrementAndGet();
        try {
            work = Files.createTempDirectory("xpsebpf-test-");
            Path obj = work.resolve(module.baseName() + ".bpf.o");
            Files.write(obj, object.get().content());
            List<TestOutcome> outcomes = new ArrayList<>();
            int n = 0;
            for (IrTest test : module.tests()) {
                if (harness == null && sendsTcp(test)) {
                    try {
                        harness = TcpHarness.start(plan, name + "-tcp");
                    } catch (TcpHarness.HarnessException e) {
                        outcomes.add(new TestOutcome(test.name(), test.location(), false,
                                "cannot run TCP tests here: " + e.getMessage()));
                        continue;
                    }
                }
                outcomes.add(run(plan, test, obj, work, name + "-" + (++n), harness));
            }
            return outcomes;
        } catch (IOException e) {
            return module.tests().stream().map(t -> new TestOutcome(t.name(), t.location(), false,
                    "cannot prepare the kernel test run: " + e.getMessage())).toList();
        } finally {
            if (harness != null) {
                harness.close();
            }
            Clang.deleteTree(work);
        }
    }

    private static boolean sendsTcp(IrTest test) {
        return test.steps().stream().anyMatch(s -> s instanceof IrTest.Send send
                && send.entry().predicate().protocol() == Protocol.TCP);
    }

    /** A step that did not go as the test says. */
    private static final class StepFailed extends Exception {
        private static final long serialVersionUID = 1L;

        StepFailed(SourceLocation at, String message) {
            super(C.at(at) + ": " + message, null, false, false);
        }
    }

    private static TestOutcome run(Plan plan, IrTest test, Path object, Path work, String name,
                                   TcpHarness harness) {
        if (sendsTcp(test) && harness == null) {
            return new TestOutcome(test.name(), test.location(), false, "no TCP harness");
        }
        try (Bpftool.Pins pins = Bpftool.load(object, name, false);
             TcpHarness.Attachment attached = sendsTcp(test) ? harness.attach(plan, pins) : null) {
            for (IrTest.Step step : test.steps()) {
                step(plan, pins, harness, step, work);
            }
            return new TestOutcome(test.name(), test.location(), true, "");
        } catch (StepFailed e) {
            return new TestOutcome(test.name(), test.location(), false, e.getMessage());
        } catch (Bpftool.BpfException | TcpHarness.HarnessException e) {
            return new TestOutcome(test.name(), test.location(), false, "the kernel refused: " + e.getMessage());
        }
    }

    private static void step(Plan plan, Bpftool.Pins pins, TcpHarness harness, IrTest.Step step, Path work)
            throws StepFailed, Bpftool.BpfException, TcpHarness.HarnessException {
        switch (step) {
            case IrTest.Put p -> put(plan, pins, p);
            case IrTest.Append a -> append(plan, pins, a);
            case IrTest.Send s -> {
                EntryPlan entry = plan.entries().stream().filter(e -> e.entry().name().equals(s.entry().name()))
                        .findFirst().orElseThrow(() -> new StepFailed(s.location(), "no entry point '"
                                + s.entry().name() + "' in the generated program"));
                if (entry.tcp()) {
                    sendTcp(pins, harness, entry, s);
                } else {
                    sendUdp(pins, entry, s, work);
                }
            }
            case IrTest.ExpectEntry e -> {
                Optional<byte[]> actual = get(plan, pins, e.map(), e.key());
                if (actual.isEmpty()) {
                    throw new StepFailed(e.location(), "expected " + e.map().name() + "[" + quoted(e.key()) + "] == "
                            + quoted(e.value()) + ", but the key is missing");
                }
                if (!Arrays.equals(actual.get(), e.value())) {
                    throw new StepFailed(e.location(), "expected " + e.map().name() + "[" + quoted(e.key()) + "] == "
                            + quoted(e.value()) + ", got " + quoted(actual.get()));
                }
            }
            case IrTest.ExpectMissing e -> {
                Optional<byte[]> actual = get(plan, pins, e.map(), e.key());
                if (actual.isPresent()) {
                    throw new StepFailed(e.location(), "expected " + e.map().name() + "[" + quoted(e.key())
                            + "] to be missing, but it holds " + quoted(actual.get()));
                }
            }
        }
    }

    // ------------------------------------------------------------------ maps

    private static void put(Plan plan, Bpftool.Pins pins, IrTest.Put p) throws StepFailed, Bpftool.BpfException {
        IrMap map = p.map();
        MapPlan mp = plan.map(map);
        if (map.kind() == MapKind.ARRAY && Long.compareUnsigned(KernelLayout.decodeInt(p.key()), map.capacity()) >= 0) {
            throw new StepFailed(p.location(), "map '" + map.name() + "' has no slot " + quoted(p.key()));
        }
        Bpftool.update(pins.map(mp.cName()), KernelLayout.kernelKey(map, p.key()),
                KernelLayout.kernelValue(map.valueType(), p.value()));
    }

    /** An append as the agent makes one: the entry after the head, then the head. */
    private static void append(Plan plan, Bpftool.Pins pins, IrTest.Append a) throws StepFailed, Bpftool.BpfException {
        IrMap log = a.map();
        Path map = pins.map(plan.map(log).cName());
        byte[] head = Bpftool.lookup(map, KernelLayout.encodeInt(0, 4)).orElseThrow(() ->
                new StepFailed(a.location(), "log '" + log.name() + "' has no head slot"));
        long count = KernelLayout.decodeInt(Arrays.copyOf(head, 8));
        long index = count + 1;
        if (index > log.capacity()) {
            throw new StepFailed(a.location(), "log '" + log.name() + "' is full");
        }
        Bpftool.update(map, KernelLayout.encodeInt(index, 4), KernelLayout.logSlot(log, index, a.value()));
        byte[] newHead = new byte[KernelLayout.valueSize(log)];
        System.arraycopy(KernelLayout.encodeInt(index, 8), 0, newHead, 0, 8);
        Bpftool.update(map, KernelLayout.encodeInt(0, 4), newHead);
    }

    /** The canonical value under a canonical key, as a handler's lookup would see it. */
    private static Optional<byte[]> get(Plan plan, Bpftool.Pins pins, IrMap map, byte[] key)
            throws Bpftool.BpfException {
        Path pinned = pins.map(plan.map(map).cName());
        switch (map.kind()) {
            case HASH -> {
                return Bpftool.lookup(pinned, KernelLayout.kernelKey(map, key))
                        .map(v -> KernelLayout.canonicalValue(map.valueType(), v));
            }
            case ARRAY -> {
                if (Long.compareUnsigned(KernelLayout.decodeInt(key), map.capacity()) >= 0) {
                    return Optional.empty();
                }
                return Bpftool.lookup(pinned, KernelLayout.kernelKey(map, key))
                        .map(v -> KernelLayout.canonicalValue(map.valueType(), v));
            }
            case LOG -> {
                long index = KernelLayout.decodeInt(key);
                if (index < 1 || Long.compareUnsigned(index, map.capacity()) > 0) {
                    return Optional.empty();
                }
                Optional<byte[]> slot = Bpftool.lookup(pinned, KernelLayout.encodeInt(index, 4));
                if (slot.isEmpty() || KernelLayout.decodeInt(Arrays.copyOf(slot.get(), 8)) != index) {
                    return Optional.empty();
                }
                byte[] entry = Arrays.copyOfRange(slot.get(), KernelLayout.logEntryOffset(), slot.get().length);
                return Optional.of(KernelLayout.canonicalValue(map.valueType(), entry));
            }
        }
        throw new IllegalStateException("unknown map kind " + map.kind());
    }

    // ------------------------------------------------------------------ UDP

    private static void sendUdp(Bpftool.Pins pins, EntryPlan entry, IrTest.Send s, Path work)
            throws StepFailed, Bpftool.BpfException {
        // a predicate with IPv6 prefixes sees IPv6 datagrams only; otherwise the test frames are IPv4
        boolean ipv6 = entry.entry().predicate().isIpv6();
        Packets.Flow flow = ipv6 ? null : Packets.Flow.matching(entry.entry().predicate());
        Packets.Flow6 flow6 = ipv6 ? Packets.Flow6.matching(entry.entry().predicate()) : null;
        byte[] request = ipv6 ? Packets.request6(flow6, s.payload()) : Packets.request(flow, s.payload());
        Bpftool.TestRun r = Bpftool.testRun(pins.program(entry.xdpProg()), request, work);
        String expected = s.verdict().keyword() + s.response().map(b -> " " + quoted(b)).orElse("");
        String sent = "sent " + quoted(s.payload()) + " to " + entry.xdpProg() + " (XDP)\n  expected " + expected
                + "\n  got      ";
        switch (s.verdict()) {
            case TX -> {
                if (r.retval() != XDP_TX) {
                    throw new StepFailed(s.location(), sent + action(r.retval()));
                }
                byte[] expectedPayload = s.response().orElse(new byte[0]);
                Optional<String> wrong = ipv6 ? Packets.checkReply6(flow6, r.dataOut(), expectedPayload)
                        : Packets.checkReply(flow, r.dataOut(), expectedPayload);
                byte[] payload = ipv6 ? Packets.payloadOf6(r.dataOut()) : Packets.payloadOf(r.dataOut());
                if (s.response().isPresent() && !Arrays.equals(payload, s.response().get())) {
                    throw new StepFailed(s.location(), sent + "tx " + quoted(payload));
                }
                if (wrong.isPresent()) {
                    throw new StepFailed(s.location(), sent + "tx, but " + wrong.get());
                }
            }
            case PASS -> {
                if (r.retval() != XDP_PASS) {
                    throw new StepFailed(s.location(), sent + action(r.retval()));
                }
                if (!Arrays.equals(r.dataOut(), request)) {
                    throw new StepFailed(s.location(), sent + "pass, but the frame was changed");
                }
            }
            case DROP, RESET -> {
                if (r.retval() != XDP_DROP) {
                    throw new StepFailed(s.location(), sent + action(r.retval()));
                }
            }
        }
    }

    // ------------------------------------------------------------------ TCP

    /** One segment on a fresh connection; the reset counter tells a reset from a drop. */
    private static void sendTcp(Bpftool.Pins pins, TcpHarness harness, EntryPlan entry, IrTest.Send s)
            throws StepFailed, Bpftool.BpfException, TcpHarness.HarnessException {
        Path counters = pins.map("xps_counters");
        long resetsBefore = Bpftool.sumPerCpu(counters, entry.index(), 8)[3];
        TcpHarness.Observation o = harness.send(entry, s.payload());
        long resets = Bpftool.sumPerCpu(counters, entry.index(), 8)[3] - resetsBefore;
        String expected = s.verdict().keyword() + s.response().map(b -> " " + quoted(b)).orElse("");
        String got;
        if (o.toService().length > 0 && o.toClient().length == 0) {
            got = Arrays.equals(o.toService(), s.payload()) ? "pass"
                    : "pass, but the service received " + quoted(o.toService());
        } else if (o.toClient().length > 0 && o.toService().length == 0) {
            got = "tx " + quoted(o.toClient());
        } else if (o.toClient().length == 0) {
            got = resets > 0 ? "reset" : "drop";
        } else {
            got = "both: the service received " + quoted(o.toService()) + " and the client " + quoted(o.toClient());
        }
        String want = switch (s.verdict()) {
            case TX -> "tx " + quoted(s.response().orElse(new byte[0]));
            case PASS -> "pass";
            case DROP -> "drop";
            case RESET -> "reset";
        };
        if (s.verdict() == Verdict.TX && s.response().isPresent() && s.response().get().length == 0) {
            want = "drop"; // nothing to send: the segment is consumed and the client hears nothing
        }
        if (!got.equals(want)) {
            throw new StepFailed(s.location(), "sent " + quoted(s.payload()) + " on a TCP connection to "
                    + entry.verdictProg() + "\n  expected " + expected + "\n  got      " + got);
        }
    }

    private static String action(int retval) {
        return switch (retval) {
            case 0 -> "XDP_ABORTED";
            case XDP_DROP -> "drop (XDP_DROP)";
            case XDP_PASS -> "pass (XDP_PASS)";
            case XDP_TX -> "tx (XDP_TX)";
            case 4 -> "XDP_REDIRECT";
            default -> "XDP action " + retval;
        };
    }

    static String quoted(byte[] bytes) {
        StringBuilder s = new StringBuilder("\"");
        for (byte b : bytes) {
            int c = b & 0xFF;
            switch (c) {
                case '\r' -> s.append("\\r");
                case '\n' -> s.append("\\n");
                case '\t' -> s.append("\\t");
                case '"' -> s.append("\\\"");
                case '\\' -> s.append("\\\\");
                default -> {
                    if (c >= 0x20 && c < 0x7F) {
                        s.append((char) c);
                    } else {
                        s.append(String.format("\\x%02x", c));
                    }
                }
            }
        }
        return s.append('"').toString();
    }
}
