package dev.xps.backend.p4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.target.CapabilityChecker;
import dev.xps.compiler.target.TestOutcome;
import dev.xps.testing.SampleFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.BindMode;
import org.testcontainers.containers.Container;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * The in-language tests of every sample and program p4-bmv2 accepts, on real BMv2: the
 * generated P4 compiled by p4c-bm2-ss and run by simple_switch (Bmv2TestRunner). Uses the
 * tools from PATH when present, else a p4lang container through Testcontainers when Docker
 * works (image: -Dxps.bmv2.image, default p4lang/p4c:latest, which is built on
 * p4lang/behavioral-model), else is skipped with the reason.
 */
class Bmv2IntegrationTest {
    static final String IMAGE = System.getProperty("xps.bmv2.image", "p4lang/p4c:latest");
    private static GenericContainer<?> container;

    @AfterAll
    static void stop() {
        if (container != null) {
            container.stop();
        }
    }

    private static Optional<Bmv2TestRunner.Tools> tools(List<String> why) {
        Bmv2TestRunner.Tools local = new Bmv2TestRunner.LocalTools();
        if (local.unavailableReason().isEmpty()) {
            return Optional.of(local);
        }
        why.add(local.unavailableReason().get());
        boolean docker;
        try {
            docker = DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException | LinkageError e) {
            docker = false;
        }
        if (!docker) {
            why.add("no Docker engine for Testcontainers");
            return Optional.empty();
        }
        String tmp = Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath().toString();
        container = new GenericContainer<>(DockerImageName.parse(IMAGE)).withCommand("sleep", "infinity")
                .withFileSystemBind(tmp, tmp, BindMode.READ_WRITE);
        container.start();
        return Optional.of(new ContainerTools(container));
    }

    private static final List<String> WHY = new ArrayList<>();
    private static Optional<Bmv2TestRunner.Tools> found;

    private static synchronized Optional<Bmv2TestRunner.Tools> tools() {
        if (found == null) {
            found = tools(WHY);
            if (found.isEmpty()) {
                System.out.println("BMv2 integration tests skipped: " + String.join("; ", WHY));
            }
        }
        return found;
    }

    /** Shows up as skipped, with the reason, where neither the tools nor Docker are available. */
    @Test
    void bmv2IsAvailable() {
        assumeTrue(tools().isPresent(), () -> "BMv2 integration tests skipped: " + String.join("; ", WHY));
    }

    @TestFactory
    List<DynamicNode> acceptedProgramsOnBmv2() {
        Optional<Bmv2TestRunner.Tools> tools = tools();
        if (tools.isEmpty()) {
            return List.of();  // bmv2IsAvailable() reports the skip and its reason
        }
        Bmv2TestRunner runner = new Bmv2TestRunner(tools.get());
        Bmv2Backend backend = new Bmv2Backend();
        List<IrModule> modules = new ArrayList<>();
        SampleFiles.all().forEach(p -> modules.add(SampleFiles.compile(p)));
        modules.addAll(Bmv2Programs.all());
        List<DynamicNode> out = new ArrayList<>();
        for (IrModule module : modules) {
            if (!CapabilityChecker.check(module, backend, new Diagnostics())) {
                continue;
            }
            List<TestOutcome> outcomes = runner.run(module, backend.generate(module, new Diagnostics()));
            assertEquals(module.tests().size(), outcomes.size());
            out.add(DynamicContainer.dynamicContainer(module.baseName(), outcomes.stream().map(o ->
                    DynamicTest.dynamicTest(o.testName(), () -> assertTrue(o.passed(), o.location() + ": "
                            + o.detail())))));
        }
        return out;
    }

    /** Runs the tools in the container; the runner's temporary directories are shared at the same paths. */
    static final class ContainerTools implements Bmv2TestRunner.Tools {
        private final GenericContainer<?> c;

        ContainerTools(GenericContainer<?> c) {
            this.c = c;
        }

        @Override
        public Optional<String> unavailableReason() {
            return Optional.empty();
        }

        private static String quote(String s) {
            return "'" + s.replace("'", "'\\''") + "'";
        }

        private static String line(List<String> cmd) {
            return cmd.stream().map(ContainerTools::quote).collect(Collectors.joining(" "));
        }

        @Override
        public Bmv2TestRunner.Exec run(Path dir, int seconds, List<String> cmd, Path stdin) throws IOException {
            String sh = "cd " + quote(dir.toString()) + " && timeout " + seconds + " " + line(cmd)
                    + (stdin != null ? " < " + quote(stdin.toString()) : "") + " 2>&1";
            try {
                Container.ExecResult r = c.execInContainer("sh", "-c", sh);
                return new Bmv2TestRunner.Exec(r.getExitCode(), r.getStdout() + r.getStderr());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return new Bmv2TestRunner.Exec(-1, "interrupted");
            }
        }

        @Override
        public AutoCloseable start(Path dir, List<String> cmd, Path log) throws IOException {
            Path pid = dir.resolve("background.pid");
            String sh = "cd " + quote(dir.toString()) + " && (" + line(cmd) + " > " + quote(log.toString())
                    + " 2>&1 & echo $! > " + quote(pid.toString()) + ")";
            try {
                c.execInContainer("sh", "-c", sh);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted");
            }
            return () -> {
                String id = Files.readString(pid, StandardCharsets.UTF_8).trim();
                c.execInContainer("kill", id);
            };
        }
    }
}
