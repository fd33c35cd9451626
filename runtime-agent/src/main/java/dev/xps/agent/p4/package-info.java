/**
 * The agent's side of the p4-bmv2 target: {@link dev.xps.agent.p4.Bmv2Switch} installs, updates and
 * deletes a program's map entries (exact-match tables, registers) on a running {@code simple_switch}
 * and reads their hit counters, by driving {@code simple_switch_CLI} ({@link dev.xps.agent.p4.SimpleSwitchCli})
 * with the commands {@link dev.xps.agent.p4.Bmv2Commands} writes. What sits where comes from the
 * {@code <base>.entries.json} xpsc writes beside the program ({@link dev.xps.agent.p4.Bmv2Entries}); the
 * agent never reads the compiler's IR.
 */
package dev.xps.agent.p4;
