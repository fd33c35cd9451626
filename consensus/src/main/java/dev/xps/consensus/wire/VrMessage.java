package dev.xps.consensus.wire;

import java.util.Arrays;
import java.util.Objects;

/**
 * A replication message between the members of a consensus group (docs/consensus.md, "Replication messages").
 * Every message carries the sender's view and member index; {@link Wire} turns them into bytes and back.
 */
public sealed interface VrMessage {
    int view();

    int sender();

    /** Leader → members: log entry {@code op}, with the leader's commit number piggy-backed. */
    record Prepare(int view, int sender, long op, long commit, int clientIpv4, int clientPort, byte[] request)
            implements VrMessage {
        public Prepare {
            Wire.checkHeader(view, sender);
            Wire.checkOp(op);
            Wire.checkOp(commit);
            Wire.checkPort(clientPort);
            Objects.requireNonNull(request, "request");
            if (request.length > Wire.MAX_REQUEST) {
                throw new IllegalArgumentException("request of " + request.length + " bytes exceeds "
                        + Wire.MAX_REQUEST);
            }
            request = request.clone();
        }

        @Override
        public byte[] request() {
            return request.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Prepare p && p.view == view && p.sender == sender && p.op == op && p.commit == commit
                    && p.clientIpv4 == clientIpv4 && p.clientPort == clientPort && Arrays.equals(p.request, request);
        }

        @Override
        public int hashCode() {
            return Objects.hash(view, sender, op, commit, clientIpv4, clientPort, Arrays.hashCode(request));
        }

        @Override
        public String toString() {
            return "Prepare[view=" + view + ", sender=" + sender + ", op=" + op + ", commit=" + commit + ", client="
                    + Wire.ipv4(clientIpv4) + ":" + clientPort + ", " + request.length + " bytes]";
        }
    }

    /** Member → leader: the sender holds every entry {@code 1 .. op} (cumulative). */
    record PrepareOk(int view, int sender, long op) implements VrMessage {
        public PrepareOk {
            Wire.checkHeader(view, sender);
            Wire.checkOp(op);
        }
    }

    /** Leader → members: entries up to {@code commit} are committed (sent when no PREPARE carries it). */
    record Commit(int view, int sender, long commit) implements VrMessage {
        public Commit {
            Wire.checkHeader(view, sender);
            Wire.checkOp(commit);
        }
    }
    /**
     * Type 4, a recovering member → another member: "send me your service's state", chunk by chunk. {@code applied}
     * is the requester's applied op (its checkpoint); {@code nonce} names one transfer; {@code offset} is the first
     * snapshot byte the requester still needs (0 to start). The leader, receiving it, lowers its {@code acked}
     * for the sender to {@code applied}, so retransmission refills what the requester lost.
     */
    record StateRequest(int view, int sender, long applied, int nonce, int offset) implements VrMessage {
        public StateRequest {
            Wire.checkHeader(view, sender);
            Wire.checkOp(applied);
            if (offset < 0) {
                throw new IllegalArgumentException("offset must be >= 0, got " + offset);
            }
        }
    }

    /**
     * Type 5, the answer to a {@link StateRequest}: bytes {@code offset .. offset + data.length} of a snapshot of
     * the sender's service after applying every entry {@code 1 .. op}; the snapshot has {@code total} bytes.
     */
    record StateChunk(int view, int sender, long op, int nonce, int total, int offset, byte[] data)
            implements VrMessage {
        public StateChunk {
            Wire.checkHeader(view, sender);
            Wire.checkOp(op);
            Objects.requireNonNull(data, "data");
            if (total < 0 || offset < 0 || (long) offset + data.length > total) {
                throw new IllegalArgumentException("chunk " + offset + "+" + data.length + " outside a snapshot of "
                        + total + " bytes");
            }
            if (data.length > Wire.MAX_CHUNK) {
                throw new IllegalArgumentException("chunk of " + data.length + " bytes exceeds " + Wire.MAX_CHUNK);
            }
            data = data.clone();
        }

        @Override
        public byte[] data() {
            return data.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof StateChunk c && c.view == view && c.sender == sender && c.op == op && c.nonce == nonce
                    && c.total == total && c.offset == offset && Arrays.equals(c.data, data);
        }

        @Override
        public int hashCode() {
            return Objects.hash(view, sender, op, nonce, total, offset, Arrays.hashCode(data));
        }

        @Override
        public String toString() {
            return "StateChunk[view=" + view + ", sender=" + sender + ", op=" + op + ", nonce=" + nonce + ", "
                    + offset + "+" + data.length + " of " + total + "]";
        }
    }

    /**
     * Type 6, view change (data plane, host side): a member that gave up on the leader of its view asks the leader
     * of {@code view} (the proposed new view, {@code view mod n}) to start it, reporting its log: the last view in
     * which it took part normally ({@code normalView}, VR's "latest normal view": its entries above {@code commit}
     * come from that view's leader), that it holds every entry {@code 1 .. contiguous}, and that it knows
     * {@code commit}. The sender takes no part in older views from now.
     */
    record DoViewChange(int view, int sender, int normalView, long contiguous, long commit) implements VrMessage {
        public DoViewChange {
            Wire.checkHeader(view, sender);
            Wire.checkView(normalView);
            Wire.checkOp(contiguous);
            Wire.checkOp(commit);
        }
    }

    /**
     * Type 7, the new leader of {@code view} → members: the view is installed; its log is the one a member that
     * took part normally in {@code logView} reported, and the leader holds every entry {@code 1 .. contiguous} of
     * it (members discard what they hold above it, and a member whose own latest normal view is older than
     * {@code logView} also what it holds above its commit), {@code commit} is committed.
     */
    record StartView(int view, int sender, int logView, long contiguous, long commit) implements VrMessage {
        public StartView {
            Wire.checkHeader(view, sender);
            Wire.checkView(logView);
            Wire.checkOp(contiguous);
            Wire.checkOp(commit);
        }
    }

    /** Type 8, the new leader of {@code view} → a member with a longer log: send entries {@code from .. to}. */
    record LogRequest(int view, int sender, long from, long to) implements VrMessage {
        public LogRequest {
            Wire.checkHeader(view, sender);
            Wire.checkOp(from);
            Wire.checkOp(to);
        }
    }

    /**
     * Type 10, a member whose log was lost (its data plane restarted empty) → the leader of {@code view}: it holds
     * the state up to {@code contiguous} (a snapshot) and nothing after it. The leader lowers what it believes the
     * member acknowledged to {@code contiguous}, so that its quorums stop counting acknowledgements the member no
     * longer backs and its retransmission resends what follows.
     */
    record Rejoin(int view, int sender, long contiguous) implements VrMessage {
        public Rejoin {
            Wire.checkHeader(view, sender);
            Wire.checkOp(contiguous);
        }
    }

    /** Type 9, the answer to a {@link LogRequest}: log entry {@code op} (one per datagram). */
    record LogCopy(int view, int sender, long op, int clientIpv4, int clientPort, byte[] request)
            implements VrMessage {
        public LogCopy {
            Wire.checkHeader(view, sender);
            Wire.checkOp(op);
            Wire.checkPort(clientPort);
            Objects.requireNonNull(request, "request");
            if (request.length > Wire.MAX_REQUEST) {
                throw new IllegalArgumentException("request of " + request.length + " bytes exceeds "
                        + Wire.MAX_REQUEST);
            }
            request = request.clone();
        }

        @Override
        public byte[] request() {
            return request.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof LogCopy p && p.view == view && p.sender == sender && p.op == op
                    && p.clientIpv4 == clientIpv4 && p.clientPort == clientPort && Arrays.equals(p.request, request);
        }

        @Override
        public int hashCode() {
            return Objects.hash(view, sender, op, clientIpv4, clientPort, Arrays.hashCode(request));
        }

        @Override
        public String toString() {
            return "LogCopy[view=" + view + ", sender=" + sender + ", op=" + op + ", " + request.length + " bytes]";
        }
    }
}
