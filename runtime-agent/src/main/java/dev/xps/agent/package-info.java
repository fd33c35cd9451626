/**
 * The runtime agent: loads compiled handlers into their targets, attaches them, and manages their maps,
 * statistics and logs. {@link dev.xps.agent.Pins} and {@link dev.xps.agent.PinnedContext} are the
 * pinned-object lifecycle of the kernel target (load, attach with links, survive a crash, re-adopt, unload
 * cleanly); {@code dev.xps.agent.bpf} is the libbpf binding underneath. See the module's README.
 */
package dev.xps.agent;
