package dev.xps.consensus;

import java.util.List;

/**
 * A consensus group's configuration as {@code updateReplica} installs it (docs/consensus.md, "Roles and
 * addresses"): the view, every member (indexed 0..n-1 in order), and the client port {@code P}; replication
 * messages use {@code P + 1}. The leader of view {@code v} is member {@code v mod n}.
 */
public record Group(int view, List<Member> members, int port) {
    public Group {
        members = List.copyOf(members);
        if (view < 0) {
            throw new IllegalArgumentException("view must be >= 0, got " + view);
        }
        if (members.size() < 1 || members.size() > dev.xps.consensus.wire.Wire.MAX_MEMBERS) {
            throw new IllegalArgumentException("a group has 1..63 members, got " + members.size());
        }
        for (int i = 0; i < members.size(); i++) {
            if (members.get(i).index() != i) {
                throw new IllegalArgumentException("members must be listed in index order; position " + i
                        + " holds " + members.get(i));
            }
        }
        if (port < 1 || port > 0xfffe) {
            throw new IllegalArgumentException("the client port must be 1..65534 (replication uses port + 1), got "
                    + port);
        }
    }

    public int size() {
        return members.size();
    }

    public int leader() {
        return view % members.size();
    }

    /** How many other members must hold an entry, besides the leader, for it to commit: f = (n-1)/2. */
    public int quorumOthers() {
        return (members.size() - 1) / 2;
    }

    public int replicationPort() {
        return port + 1;
    }

    public Group withView(int newView) {
        return new Group(newView, members, port);
    }
}
