package dev.xps.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end through the shipped command: {@code bin/xpsc compile} writes Java for every
 * sample, and a separate {@code javac} process builds it against nothing but the handler
 * runtime jar — what a user embedding the output in their own service would do.
 */
class GeneratedJavaBuildsIT {
    private static final Path ROOT = Path.of(System.getProperty("xps.root.dir", "..")).toAbsolutePath().normalize();

    @Test
    void samplesCompiledByXpscBuildWithJavacAgainstTheRuntimeOnly(@TempDir Path tmp) throws Exception {
        List<String> samples;
        try (Stream<Path> files = Files.list(ROOT.resolve("samples"))) {
            samples = files.filter(p -> p.toString().endsWith(".xps")).map(Path::toString).sorted().toList();
        }
        assertFalse(samples.isEmpty());

        List<String> compile = new ArrayList<>(List.of(ROOT.resolve("bin/xpsc").toString(), "compile"));
        compile.addAll(samples);
        compile.addAll(List.of("--target", "java", "-o", tmp.resolve("out").toString()));
        Result xpsc = run(compile, tmp);
        assertEquals(0, xpsc.exit(), xpsc.output());

        List<String> sources;
        try (Stream<Path> files = Files.walk(tmp.resolve("out/java"))) {
            sources = files.filter(p -> p.toString().endsWith(".java")).map(Path::toString).sorted().toList();
        }
        assertEquals(samples.size(), sources.size(), "one Java file per sample: " + sources);

        Path runtimeJar = runtimeJar();
        List<String> javac = new ArrayList<>(List.of(javaHome().resolve("bin/javac").toString(), "-Xlint:all",
                "-Werror", "--release", "25", "-cp", runtimeJar.toString(), "-d", tmp.resolve("classes").toString()));
        javac.addAll(sources);
        Result built = run(javac, tmp);
        assertEquals(0, built.exit(), built.output());
        try (Stream<Path> files = Files.walk(tmp.resolve("classes"))) {
            assertTrue(files.anyMatch(p -> p.getFileName().toString().equals("RedisGet.class")));
        }
    }

    private static Path runtimeJar() throws IOException {
        try (Stream<Path> files = Files.list(ROOT.resolve("handler-runtime/target"))) {
            return files.filter(p -> p.getFileName().toString().matches("handler-runtime-.*\\.jar"))
                    .filter(p -> !p.toString().endsWith("-sources.jar") && !p.toString().endsWith("-javadoc.jar"))
                    .findFirst().orElseThrow(() -> new AssertionError("handler-runtime jar not built"));
        }
    }

    private static Path javaHome() {
        return Path.of(System.getProperty("java.home"));
    }

    private record Result(int exit, String output) {}

    private static Result run(List<String> command, Path dir) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
        // The reactor has just built cli/target/xpsc.jar: never let bin/xpsc start a nested build.
        pb.environment().put("XPSC_NO_BUILD", "1");
        pb.environment().put("JAVA_HOME", javaHome().toString());
        Process p = pb.start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "timed out: " + String.join(" ", command));
        return new Result(p.exitValue(), String.join(" ", command) + File.separator + "\n"
                + new String(out, StandardCharsets.UTF_8));
    }
}
