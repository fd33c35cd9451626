package dev.xps.consensus;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The host-side view change of docs/consensus.md ("Recovery and view change"), for members this process can reach
 * directly (the baseline's tests run every member in one JVM): stop every reachable member, elect the one with the
 * longest contiguous log (ties to the lowest index), install the first view after the current one whose leader
 * ({@code view mod n}) is the elected member, and resume.
 */
public final class ViewChange {
    private ViewChange() {}

    /** The outcome: the new view, its leader, and the log extent and commit number it starts from. */
    public record Result(int view, int leader, long leaderContiguous, long commit) {}

    /**
     * Runs a view change over {@code reachable}, which must be a majority of the group and all in the same view.
     *
     * @throws IllegalStateException when they are not a majority or disagree on the view (nothing is changed)
     */
    public static Result run(Collection<VrNode> reachable) {
        List<VrNode> nodes = new ArrayList<>(reachable);
        if (nodes.isEmpty()) {
            throw new IllegalStateException("no members to run a view change with");
        }
        int n = nodes.getFirst().group().size();
        if (nodes.size() < n / 2 + 1) {
            throw new IllegalStateException(nodes.size() + " of " + n + " members are not a majority");
        }
        List<VrNode.ViewStatus> status = new ArrayList<>();
        for (VrNode node : nodes) {
            status.add(node.pauseForViewChange());
        }
        int view = status.getFirst().view();
        for (VrNode.ViewStatus s : status) {
            if (s.view() != view) {
                throw new IllegalStateException("members disagree on the view: " + status);
            }
        }
        VrNode.ViewStatus elected = status.stream()
                .max(Comparator.comparingLong(VrNode.ViewStatus::contiguous)
                        .thenComparing(Comparator.comparingInt(VrNode.ViewStatus::index).reversed()))
                .orElseThrow();
        long commit = status.stream().mapToLong(VrNode.ViewStatus::commit).max().orElse(0);
        Map<Integer, Long> contiguous = new HashMap<>();
        status.forEach(s -> contiguous.put(s.index(), s.contiguous()));
        int newView = view + 1;
        while (newView % n != elected.index()) {
            newView++;
        }
        // The elected member first, so it leads before the others resume and acknowledge it.
        nodes.sort(Comparator.comparingInt(x -> x.index() == elected.index() ? 0 : 1));
        for (VrNode node : nodes) {
            node.installView(newView, elected.contiguous(), Math.min(commit, elected.contiguous()), contiguous);
        }
        return new Result(newView, elected.index(), elected.contiguous(), Math.min(commit, elected.contiguous()));
    }
}
