package dev.xps.compiler.ir;

import dev.xps.compiler.diag.SourceLocation;
import java.util.List;
import java.util.Optional;

/**
 * A replicated service: requests on {@code predicate} that match {@code ordering} are ordered by
 * a Viewstamped-Replication data plane before the service sees them. Checked now; lowered by the
 * consensus backend (docs/targets.md).
 */
public record IrConsensus(String name, Predicate predicate, int replicas, long logCapacity,
                          int entryBytes, Ordering ordering, int failureThresholdMultiple,
                          SourceLocation location) {

    /** Which requests need ordering: all of them, or those whose field has one of the values. */
    public record Ordering(Optional<Field> field, List<Long> values) {
        public static Ordering all() {
            return new Ordering(Optional.empty(), List.of());
        }
    }

    public record Field(int offset, int byteWidth, ByteOrder order) {}
}
