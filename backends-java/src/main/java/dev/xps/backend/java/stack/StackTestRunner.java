package dev.xps.backend.java.stack;

import dev.xps.backend.java.JavaTestRunner;
import dev.xps.compiler.diag.SourceLocation;
import dev.xps.compiler.ir.IrMap;
import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.ir.IrTest;
import dev.xps.compiler.ir.IrType;
import dev.xps.compiler.target.Backend;
import dev.xps.compiler.target.GeneratedFile;
import dev.xps.compiler.target.TestOutcome;
import dev.xps.runtime.Bytes;
import dev.xps.runtime.EntryPoint;
import dev.xps.runtime.MapKind;
import dev.xps.runtime.MapSpec;
import dev.xps.runtime.MapStore;
import dev.xps.runtime.ValueType;
import dev.xps.runtime.Verdict;
import dev.xps.runtime.XpsMap;
import dev.xps.runtime.XpsProgram;
import dev.xps.stack.XpsStack;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Runs a module's in-language tests on the user-space stack over real loopback sockets. Each test
 * gets fresh maps and a fresh stack (sharing one event loop and one service executor per run);
 * each {@code send} opens a fresh connection (TCP, TCP_NODELAY, the payload in one write) or sends
 * one datagram, and its outcome is what the client and the service observe: the response bytes
 * (tx), exactly the payload at the service callback (pass), silence on an open connection (drop),
 * an RST (reset). See {@link StackProbe}.
 */
public final class StackTestRunner implements Backend.TestRunner {
    /** How long a drop must stay silent (ms). */
    static final int QUIET_MS = 100;

    @Override
    public Optional<String> unavailableReason() {
        return new JavaTestRunner().unavailableReason();
    }

    @Override
    public List<TestOutcome> run(IrModule module, List<GeneratedFile> files) {
        Function<MapStore, XpsProgram> factory;
        try {
            factory = JavaTestRunner.load(module, files);
        } catch (JavaTestRunner.GeneratedCodeException e) {
            return module.tests().stream().map(t -> new TestOutcome(t.name(), t.location(), false, e.getMessage())).toList();
        }
        EventLoopGroup group = XpsStack.newEventLoopGroup(1, Epoll.isAvailable());
        ExecutorService service = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "xps-test-service");
            t.setDaemon(true);
            return t;
        });
        try {
            List<TestOutcome> outcomes = new ArrayList<>();
            for (IrTest test : module.tests()) {
                outcomes.add(run(module, test, factory, group, service));
            }
            return outcomes;
        } finally {
            service.shutdownNow();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
        }
    }

    /** The runtime declaration of a map (as {@link JavaTestRunner} builds it). */
    public static MapSpec mapSpec(IrMap map) {
        return new MapSpec(map.name(), MapKind.valueOf(map.kind().name()), valueType(map.keyType()),
                valueType(map.valueType()), map.capacity(), map.stats());
    }

    private static ValueType valueType(IrType type) {
        return switch (type) {
            case IrType.Int i -> new ValueType.UInt(i.byteWidth());
            case IrType.Bytes b -> new ValueType.Bytes(b.maxLength());
            case IrType.Bool b -> throw new IllegalArgumentException("a map cannot hold bool");
        };
    }

    private static final class StepFailed extends Exception {
        private static final long serialVersionUID = 1L;

        StepFailed(SourceLocation at, String message) {
            super(at.line() + ":" + at.column() + ": " + message, null, false, false);
        }
    }

    private static TestOutcome run(IrModule module, IrTest test, Function<MapStore, XpsProgram> factory,
                                   EventLoopGroup group, ExecutorService service) {
        MapStore store = new MapStore();
        StackProbe probe;
        try {
            for (IrMap map : module.maps()) {
                store.open(mapSpec(map));
            }
            probe = new StackProbe(store, factory, group, service, QUIET_MS);
        } catch (RuntimeException e) {
            return new TestOutcome(test.name(), test.location(), false, "starting the stack over fresh maps failed: " + e);
        }
        try (probe) {
            for (IrTest.Step step : test.steps()) {
                try {
                    step(step, store, probe);
                } catch (IOException | RuntimeException e) {
                    throw new StepFailed(step.location(), "the stack or its client failed: " + e);
                }
            }
            return new TestOutcome(test.name(), test.location(), true, "");
        } catch (StepFailed e) {
            return new TestOutcome(test.name(), test.location(), false, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new TestOutcome(test.name(), test.location(), false, "interrupted");
        }
    }

    private static void step(IrTest.Step step, MapStore store, StackProbe probe)
            throws StepFailed, IOException, InterruptedException {
        switch (step) {
            case IrTest.Put p -> {
                if (!store.get(p.map().name()).put(p.key(), p.value())) {
                    throw new StepFailed(p.location(), "map '" + p.map().name() + "' has no room for key " + quoted(p.key()));
                }
            }
            case IrTest.Append a -> {
                if (store.get(a.map().name()).append(a.value()) == XpsMap.FULL) {
                    throw new StepFailed(a.location(), "log '" + a.map().name() + "' is full");
                }
            }
            case IrTest.Send s -> send(s, probe);
            case IrTest.ExpectEntry e -> {
                byte[] actual = store.get(e.map().name()).get(e.key());
                if (actual == null || !Arrays.equals(actual, e.value())) {
                    throw new StepFailed(e.location(), "expected " + e.map().name() + "[" + quoted(e.key()) + "] == "
                            + quoted(e.value()) + ", " + (actual == null ? "but the key is missing" : "got " + quoted(actual)));
                }
            }
            case IrTest.ExpectMissing e -> {
                byte[] actual = store.get(e.map().name()).get(e.key());
                if (actual != null) {
                    throw new StepFailed(e.location(), "expected " + e.map().name() + "[" + quoted(e.key())
                            + "] to be missing, but it holds " + quoted(actual));
                }
            }
        }
    }

    private static void send(IrTest.Send s, StackProbe probe) throws StepFailed, IOException, InterruptedException {
        EntryPoint entry = probe.stack().program().entryPoint(s.entry().name()).orElseThrow(() -> new StepFailed(
                s.location(), "the generated program has no entry point '" + s.entry().name() + "'"));
        StackProbe.Observed got = probe.send(entry, s.payload());
        boolean verdictOk = got.verdict() != null && got.verdict().name().equals(s.verdict().name());
        boolean responseOk = s.response().isEmpty() || Arrays.equals(s.response().get(), got.bytes());
        boolean passOk = got.verdict() != Verdict.PASS || Arrays.equals(got.bytes(), s.payload());
        if (verdictOk && responseOk && passOk && got.note().isEmpty()) {
            return;
        }
        String expected = s.verdict().keyword() + s.response().map(r -> " " + quoted(r)).orElse("");
        String actual = got.verdict() == null ? "nothing" : got.verdict().name().toLowerCase(Locale.ROOT)
                + (got.verdict() == Verdict.TX ? " " + quoted(got.bytes()) : "")
                + (got.verdict() == Verdict.PASS && !passOk ? " (the service got " + quoted(got.bytes()) + ")" : "");
        throw new StepFailed(s.location(), "sent " + quoted(s.payload()) + " over " + entry.predicate().protocol()
                + "\n  expected " + expected + "\n  got      " + actual + (got.note().isEmpty() ? "" : " (" + got.note() + ")"));
    }

    private static String quoted(byte[] bytes) {
        return "\"" + Bytes.escape(bytes) + "\"";
    }
}
