package dev.xps.agent.testsupport;

import dev.xps.agent.bpf.Preflight;
import dev.xps.agent.bpf.PreflightException;
import java.nio.file.Path;

/**
 * Runs the agent's preflight in a child process started in a restricted way (no capabilities, no libbpf),
 * printing {@code PREFLIGHT <exception class>: <message>} or {@code PREFLIGHT OK}.
 */
public final class PreflightChild {
    private PreflightChild() {}

    public static void main(String[] args) {
        try {
            Preflight.check(Path.of(args[0]));
            System.out.println("PREFLIGHT OK");
        } catch (PreflightException e) {
            System.out.println("PREFLIGHT " + e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }
}
