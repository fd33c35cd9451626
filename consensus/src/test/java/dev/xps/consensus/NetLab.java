package dev.xps.consensus;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A private network for one test: a namespace per member and one for the clients, each with a veth pair to a
 * bridge that lives in a namespace of its own, so nothing touches the root namespace. Every name starts with
 * {@code xvr} and a random tag (other kernel tests run concurrently); {@link #close()} deletes every namespace,
 * which takes the veths and the bridge with them.
 */
final class NetLab implements AutoCloseable {
    final String tag;
    final int members;
    private final List<String> namespaces = new ArrayList<>();
    private final Impairment impairment;

    NetLab(int members) {
        this.members = members;
        this.tag = freeTag();
        boolean ok = false;
        try {
            String br = tag + "b";
            addNs(br);
            ip("-n", br, "link", "add", tag + "br", "type", "bridge");
            ip("-n", br, "link", "set", tag + "br", "up");
            for (int i = 0; i <= members; i++) {
                String ns = i < members ? memberNs(i) : clientNs();
                String port = i < members ? "" + i : "c";
                addNs(ns);
                ip("-n", br, "link", "add", tag + "h" + port, "type", "veth", "peer", "name", tag + "p" + port,
                        "netns", ns);
                ip("-n", br, "link", "set", tag + "h" + port, "master", tag + "br", "up");
                ip("-n", ns, "addr", "add", (i < members ? memberIp(i) : clientIp()) + "/24", "dev", tag + "p" + port);
                ip("-n", ns, "link", "set", tag + "p" + port, "up");
                ip("-n", ns, "link", "set", "lo", "up");
            }
            ok = true;
        } finally {
            if (!ok) {
                close();
            }
        }
        List<Impairment.Link> links = new ArrayList<>();
        for (int i = 0; i < members; i++) {
            links.add(new Impairment.Link(memberNs(i), memberDev(i)));
        }
        links.add(new Impairment.Link(clientNs(), tag + "pc"));
        this.impairment = new Impairment(links);
    }

    /** "xvr" and 4 random hex digits that no namespace in /run/netns starts with (bounded tries). */
    private static String freeTag() {
        for (int i = 0; i < 100; i++) {
            String t = "xvr" + HexFormat.of().toHexDigits((short) ThreadLocalRandom.current().nextInt());
            String[] taken = new java.io.File("/run/netns").list((d, name) -> name.startsWith(t));
            if (taken == null || taken.length == 0) {
                return t;
            }
        }
        throw new IllegalStateException("no free xvr tag in /run/netns");
    }

    String memberNs(int i) {
        return tag + "m" + i;
    }

    String clientNs() {
        return tag + "c";
    }

    private String memberDev(int i) {
        return tag + "p" + i;
    }

    static String memberIp(int i) {
        return "10.77.0." + (i + 1);
    }

    static String clientIp() {
        return "10.77.0.100";
    }

    static Inet4Address addr(String ip) {
        try {
            return (Inet4Address) InetAddress.getByName(ip);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    Group group(int port) {
        List<Member> ms = new ArrayList<>();
        for (int i = 0; i < members; i++) {
            ms.add(new Member(i, addr(memberIp(i)), new byte[] {2, 0, 0, 0, 0, (byte) i}));
        }
        return new Group(0, ms, port);
    }

    /**
     * Loss and reordering ({@link Impairment}) on every link, on its namespace side (members and the client), so
     * each datagram crosses one impairment: its sender's.
     *
     * @return which kind was installed ("netem" or "htb+bpf")
     */
    String impair() {
        return impairment.install();
    }

    /** Packets the impairment dropped and delayed on member {@code i}'s link (htb+bpf only; netem: -1). */
    long[] impairmentCounts(int i) {
        return impairment.counts(i);
    }

    void clearImpairment() {
        impairment.clear();
    }

    private void addNs(String ns) {
        ip("netns", "add", ns);
        namespaces.add(ns);
    }

    private static void ip(String... args) {
        List<String> cmd = new ArrayList<>(List.of("ip"));
        cmd.addAll(List.of(args));
        run(cmd);
    }

    static String run(List<String> cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("timed out: " + String.join(" ", cmd));
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", cmd) + " failed (" + p.exitValue() + "): " + out);
            }
            return out;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        for (int i = namespaces.size() - 1; i >= 0; i--) {
            try {
                run(List.of("ip", "netns", "del", namespaces.get(i)));
            } catch (RuntimeException e) {
                System.err.println("cleanup: " + e.getMessage());
            }
        }
        namespaces.clear();
    }
}
