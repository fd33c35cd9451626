package dev.xps.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real {@code bin/xpsc} launcher, run as a subprocess from another working directory. It runs
 * the {@code cli/target/xpsc.jar} the reactor has just packaged ({@code XPSC_NO_BUILD=1}: a test
 * must not start a nested Maven build), which is why this is an integration test.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class XpscScriptIT {
    @TempDir
    Path workDir;

    static Path repositoryRoot() {
        return Path.of(System.getProperty("xps.root.dir", "..")).toAbsolutePath().normalize();
    }

    record Result(int code, String out, String err) {}

    Result run(String... args) throws IOException, InterruptedException {
        Path root = repositoryRoot();
        Path script = root.resolve("bin/xpsc");
        assertTrue(Files.isExecutable(script), "no executable " + script);
        assertTrue(Files.exists(root.resolve("cli/target/xpsc.jar")), "the reactor did not package cli/target/xpsc.jar");
        String[] command = new String[args.length + 1];
        command[0] = script.toString();
        System.arraycopy(args, 0, command, 1, args.length);
        ProcessBuilder pb = new ProcessBuilder(command).directory(workDir.toFile())
                .redirectOutput(workDir.resolve("stdout.txt").toFile())
                .redirectError(workDir.resolve("stderr.txt").toFile());
        pb.environment().put("XPSC_NO_BUILD", "1");
        pb.environment().remove("XPSC_DEBUG");
        Process process = pb.start();
        if (!process.waitFor(100, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("bin/xpsc did not finish in 100 s");
        }
        return new Result(process.exitValue(), Files.readString(workDir.resolve("stdout.txt")),
                Files.readString(workDir.resolve("stderr.txt")));
    }

    @Test
    void badFileFromAnotherDirectory() throws Exception {
        Files.createDirectories(workDir.resolve("handlers"));
        Files.writeString(workDir.resolve("handlers/bad.xps"), """
                handler ping on tcp port 7000 {
                  decode { expect "PING"; } else pass;
                  return tx;
                }
                """, StandardCharsets.UTF_8);
        Result r = run("check", "handlers/bad.xps");
        assertEquals(1, r.code(), r::toString);
        assertTrue(Pattern.compile("(?m)^handlers/bad\\.xps:3:3: error: 'return tx' with nothing to send")
                .matcher(r.err()).find(), r::toString);
        assertTrue(r.err().contains("\n      return tx;\n      ^\n"), "source line and caret:\n" + r.err());
        assertEquals("", r.out(), "diagnostics go to stderr");
        assertFalse(r.err().contains("\tat "), r::toString);
    }

    @Test
    void goodFileAndUsageErrorExitCodes() throws Exception {
        Files.writeString(workDir.resolve("ok.xps"), """
                handler ping on tcp port 7000 {
                  decode { expect "PING"; } else pass;
                  encode { "PONG" }
                  return tx;
                }
                """, StandardCharsets.UTF_8);
        Result ok = run("check", "ok.xps");
        assertEquals(0, ok.code(), ok::toString);
        Result usage = run("check", "--no-such-option", "ok.xps");
        assertEquals(2, usage.code(), usage::toString);
    }
}
