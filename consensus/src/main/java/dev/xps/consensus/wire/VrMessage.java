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
}
