package dev.xps.agent.p4;

import dev.xps.agent.AgentException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * {@code simple_switch_CLI --thrift-port N} as a process per batch: the commands go to its stdin, one a
 * line, and its stdout is split per command at the prompt. The CLI is a Python {@code cmd.Cmd} loop
 * (behavioral-model, {@code tools/runtime_CLI.py}) whose {@code input()} writes the prompt
 * {@code "RuntimeCmd: "} to stdout before reading each line, also when stdin is not a terminal; so the
 * output is a preamble, then one prompt and that command's output per command, then a last prompt
 * answered by end of input. A count of prompts that does not match is an error, not a guess.
 */
public final class SimpleSwitchCli implements SwitchCli {
    static final String PROMPT = "RuntimeCmd: ";

    private final List<String> command;
    private final Duration timeout;

    /** The CLI on PATH, talking to the switch's Thrift server on {@code thriftPort} of this host. */
    public SimpleSwitchCli(int thriftPort) {
        this("simple_switch_CLI", "localhost", thriftPort, Duration.ofSeconds(60));
    }

    public SimpleSwitchCli(String executable, String thriftIp, int thriftPort, Duration timeout) {
        this.command = List.of(executable, "--thrift-ip", thriftIp, "--thrift-port", Integer.toString(thriftPort));
        this.timeout = timeout;
    }

    /** The command line this client runs. */
    public List<String> commandLine() {
        return command;
    }

    @Override
    public List<String> run(List<String> commands) {
        String script = Bmv2Commands.script(commands);
        Process p;
        try {
            p = new ProcessBuilder(command).start();
        } catch (IOException e) {
            throw new AgentException("cannot run " + command.get(0) + ": " + e.getMessage(), e);
        }
        CompletableFuture<byte[]> out = drain(p.getInputStream());
        CompletableFuture<byte[]> err = drain(p.getErrorStream());
        try (OutputStream in = p.getOutputStream()) {
            in.write(script.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            // the CLI exited before reading (it could not connect, say): its output says why
        }
        String stdout;
        String stderr;
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new AgentException(String.join(" ", command) + " did not finish within " + timeout);
            }
            stdout = new String(out.get(), StandardCharsets.UTF_8);
            stderr = new String(err.get(), StandardCharsets.UTF_8);
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new AgentException("interrupted while running " + command.get(0), e);
        } catch (ExecutionException e) {
            throw new AgentException("cannot read the output of " + command.get(0) + ": " + e.getCause(), e);
        }
        if (p.exitValue() != 0) {
            throw new AgentException(String.join(" ", command) + " exited " + p.exitValue() + ":\n" + stdout + stderr);
        }
        return split(stdout, stderr, commands.size());
    }

    /** The output of each of {@code n} commands: the text between consecutive prompts. */
    static List<String> split(String stdout, String stderr, int n) {
        List<String> parts = new ArrayList<>();
        int at = stdout.indexOf(PROMPT);
        while (at >= 0) {
            int next = stdout.indexOf(PROMPT, at + PROMPT.length());
            parts.add(stdout.substring(at + PROMPT.length(), next < 0 ? stdout.length() : next));
            at = next;
        }
        // n commands, then the prompt that end of input answers
        if (parts.size() != n + 1) {
            throw new AgentException("simple_switch_CLI printed " + parts.size() + " prompts for " + n
                    + " commands (expected " + (n + 1) + "); its output:\n" + stdout + stderr);
        }
        return List.copyOf(parts.subList(0, n));
    }

    /** Reads a stream to its end on a thread of its own, so neither pipe can fill and block the CLI. */
    private static CompletableFuture<byte[]> drain(InputStream s) {
        CompletableFuture<byte[]> f = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try (s) {
                ByteArrayOutputStream b = new ByteArrayOutputStream();
                s.transferTo(b);
                f.complete(b.toByteArray());
            } catch (IOException e) {
                f.completeExceptionally(new UncheckedIOException(e));
            }
        });
        return f;
    }
}
