package dev.xps.compiler.sema;

import java.util.Collection;
import java.util.Optional;

/** "did you mean ...?" for unknown names: the closest known name within a small edit distance. */
final class Suggestions {
    private Suggestions() {}

    /** {@code " (did you mean 'x'?)"} or "" when no known name is close enough. */
    static String didYouMean(String unknown, Collection<String> known) {
        return closest(unknown, known).map(s -> " (did you mean '" + s + "'?)").orElse("");
    }

    static Optional<String> closest(String unknown, Collection<String> known) {
        // One edit for short names, two for longer ones: 'cahce' -> 'cache', not 'a' -> 'b'.
        int limit = unknown.length() <= 3 ? 1 : 2;
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String candidate : known.stream().sorted().toList()) {
            int d = distance(unknown, candidate);
            if (d > 0 && d <= limit && d < bestDistance) {
                best = candidate;
                bestDistance = d;
            }
        }
        return Optional.ofNullable(best);
    }

    /** Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps. */
    static int distance(String a, String b) {
        if (Math.abs(a.length() - b.length()) > 2) {
            return Integer.MAX_VALUE;
        }
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }
}
