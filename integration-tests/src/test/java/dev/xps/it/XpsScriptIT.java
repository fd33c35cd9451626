package dev.xps.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The shipped {@code bin/xps} agent launcher, run as a subprocess on the runtime-agent jar the
 * reactor has just packaged ({@code XPS_NO_BUILD=1}: no nested Maven build).
 */
class XpsScriptIT {
    private static final Path ROOT = Path.of(System.getProperty("xps.root.dir", "..")).toAbsolutePath().normalize();

    private record Result(int exit, String output) {}

    private static Result run(String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of(ROOT.resolve("bin/xps").toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put("XPS_NO_BUILD", "1");
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "bin/xps did not finish");
        return new Result(p.exitValue(), out);
    }

    @Test
    void helpAndUsageErrorsThroughTheScript() throws Exception {
        assertTrue(Files.isExecutable(ROOT.resolve("bin/xps")));
        Result help = run("--help");
        assertEquals(0, help.exit(), help.output());
        assertTrue(help.output().contains("usage: xps"), help.output());
        Result bad = run("nonsense");
        assertEquals(2, bad.exit(), bad.output());
    }
}
