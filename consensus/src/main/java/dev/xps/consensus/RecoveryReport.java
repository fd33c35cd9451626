package dev.xps.consensus;

/**
 * How a service caught up after a restart (docs/consensus.md, "Recovery"): it started from its checkpoint at
 * {@code checkpointOp}, took {@code fromStateTransfer} entries' worth of state from member {@code transferSource}
 * (-1: none) and executed {@code fromLocalLog} entries from the node's own log, reaching {@code appliedOp}.
 */
public record RecoveryReport(long checkpointOp, long fromStateTransfer, int transferSource, long fromLocalLog,
        long appliedOp) {}
