package dev.xps.agent.p4;

import java.util.List;

/**
 * Runs a batch of {@code simple_switch_CLI} commands against one switch and returns what the CLI
 * printed for each, in order. {@link SimpleSwitchCli} is the real one (a process per batch); tests
 * substitute their own.
 */
public interface SwitchCli {
    List<String> run(List<String> commands);
}
