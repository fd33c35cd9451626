package dev.xps.runtime;

import java.util.List;

/**
 * An IPv6 network: {@code high} and {@code low} hold the address's first and last 64 bits (host bits cleared).
 * {@link #toString()} is RFC 5952's text form ({@code fd00::/8}).
 */
public record Ipv6Prefix(long high, long low, int prefixLength) implements IpPrefix {
    public Ipv6Prefix {
        if (prefixLength < 0 || prefixLength > 128) {
            throw new IllegalArgumentException("prefix length " + prefixLength);
        }
        // Host bits mean nothing in a prefix: fd00::1/8 is fd00::/8.
        high &= highMask(prefixLength);
        low &= lowMask(prefixLength);
    }

    /** {@code "fd00::/8"}, or a single address {@code "::1"} (a /128). */
    public static Ipv6Prefix parse(String text) {
        long[] b = bits(text);
        return new Ipv6Prefix(b[0], b[1], (int) b[2]);
    }

    /**
     * The address and prefix length as written — {@code {high, low, length}}, host bits kept — of RFC 4291's text
     * forms without an embedded IPv4 part: eight groups of 1-4 hex digits, or fewer around one "::" that stands
     * for the zero groups left out, and an optional /0..128. Throws {@link IllegalArgumentException} with a
     * message for a person otherwise.
     */
    public static long[] bits(String text) {
        int slash = text.indexOf('/');
        if (slash >= 0 && text.indexOf('/', slash + 1) >= 0) {
            throw new IllegalArgumentException("'" + cut(text) + "' has more than one '/'");
        }
        String addr = slash < 0 ? text : text.substring(0, slash);
        if (addr.contains(":::")) {
            throw new IllegalArgumentException("'" + cut(text) + "' has ':::': a group is empty");
        }
        int doubleColon = addr.indexOf("::");
        if (doubleColon >= 0 && addr.indexOf("::", doubleColon + 1) >= 0) {
            throw new IllegalArgumentException("'" + cut(text) + "' has '::' twice: it may stand for one run of zero"
                    + " groups only");
        }
        List<String> head = groups(doubleColon < 0 ? addr : addr.substring(0, doubleColon));
        List<String> tail = doubleColon < 0 ? List.of() : groups(addr.substring(doubleColon + 2));
        if (head == null || tail == null) {
            throw new IllegalArgumentException("'" + cut(text) + "' is not an IPv6 address (a group is empty: use"
                    + " '::' once for zero groups)");
        }
        int count = head.size() + tail.size();
        if (doubleColon < 0 ? count != 8 : count > 7) {
            throw new IllegalArgumentException("'" + cut(text) + "' has " + count + " groups: an IPv6 address has 8"
                    + (doubleColon < 0 ? " (or fewer around '::')" : ", '::' standing for at least one"));
        }
        long[] words = new long[8];
        for (int i = 0; i < count; i++) {
            String g = i < head.size() ? head.get(i) : tail.get(i - head.size());
            if (g.length() > 4 || !g.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
                throw new IllegalArgumentException("'" + cut(g) + "' is not an IPv6 group (1 to 4 hex digits)");
            }
            int at = i < head.size() ? i : 8 - tail.size() + (i - head.size());
            words[at] = Long.parseLong(g, 16);
        }
        long length = 128;
        if (slash >= 0) {
            String p = text.substring(slash + 1);
            if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(Character::isDigit)
                    || Integer.parseInt(p) > 128) {
                throw new IllegalArgumentException("prefix length /" + cut(p) + " is not between 0 and 128");
            }
            length = Integer.parseInt(p);
        }
        return new long[] {
                (words[0] << 48) | (words[1] << 32) | (words[2] << 16) | words[3],
                (words[4] << 48) | (words[5] << 32) | (words[6] << 16) | words[7],
                length};
    }

    /** The ':'-separated groups of one side of "::" (none for ""), or null when one is empty. */
    private static List<String> groups(String side) {
        if (side.isEmpty()) {
            return List.of();
        }
        String[] g = side.split(":", -1);
        for (String s : g) {
            if (s.isEmpty()) {
                return null;
            }
        }
        return List.of(g);
    }

    private static String cut(String text) {
        return text.length() > 30 ? text.substring(0, 27) + "..." : text;
    }

    @Override
    public boolean isIpv6() {
        return true;
    }

    /** Only native IPv6 addresses (16 bytes, not IPv4-mapped) can lie in an IPv6 network. */
    @Override
    public boolean contains(byte[] address) {
        if (address.length != 16 || IpPrefix.ipv4Of(address) >= 0) {
            return false;
        }
        long h = 0;
        long l = 0;
        for (int i = 0; i < 8; i++) {
            h = (h << 8) | (address[i] & 0xFF);
            l = (l << 8) | (address[8 + i] & 0xFF);
        }
        return (h & highMask(prefixLength)) == high && (l & lowMask(prefixLength)) == low;
    }

    /** The mask of the first 64 bits for {@code length}. */
    public static long highMask(int length) {
        int bits = Math.min(length, 64);
        return bits == 0 ? 0 : -1L << (64 - bits);
    }

    /** The mask of the last 64 bits for {@code length}. */
    public static long lowMask(int length) {
        int bits = Math.max(length - 64, 0);
        return bits == 0 ? 0 : -1L << (64 - bits);
    }

    /** RFC 5952 text of the network and its length: {@code fd00::/8}. */
    @Override
    public String toString() {
        byte[] b = new byte[16];
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (high >>> (56 - 8 * i));
            b[8 + i] = (byte) (low >>> (56 - 8 * i));
        }
        return format(b, 0) + "/" + prefixLength;
    }

    /**
     * RFC 5952 text of the 16 address bytes at {@code at} of {@code b}: lower-case hex, no leading zeros, the longest
     * run (two or more) of zero groups as "::" (the first of equal runs).
     */
    public static String format(byte[] b, int at) {
        int[] g = new int[8];
        for (int i = 0; i < 8; i++) {
            g[i] = (b[at + 2 * i] & 0xFF) << 8 | (b[at + 2 * i + 1] & 0xFF);
        }
        int bestAt = -1;
        int bestLen = 1;
        for (int i = 0; i < 8; ) {
            if (g[i] != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && g[j] == 0) {
                j++;
            }
            if (j - i > bestLen) {
                bestAt = i;
                bestLen = j - i;
            }
            i = j;
        }
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == bestAt) {
                s.append("::");
                i += bestLen - 1;
                continue;
            }
            if (!s.isEmpty() && s.charAt(s.length() - 1) != ':') {
                s.append(':');
            }
            s.append(Integer.toHexString(g[i]));
        }
        return s.toString();
    }
}
