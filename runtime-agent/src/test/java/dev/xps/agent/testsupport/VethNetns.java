package dev.xps.agent.testsupport;

import dev.xps.agent.bpf.NetNs;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.SecureRandom;

/**
 * A network namespace {@code xpsagent-<id>} with a veth pair: {@code xpsagent-<id>} in the root namespace
 * ({@code 10.251.N.1/24}) and {@code xpsagent-<id>p} inside ({@code 10.251.N.2/24}); packets the test sends
 * from the root namespace to the inside address cross the pair and reach the inner end's XDP hook.
 * {@link #close()} deletes both (deleting the namespace end also deletes its peer).
 */
public final class VethNetns implements AutoCloseable {
    public final String netns;
    public final String hostIf;
    public final String nsIf;
    public final String hostIp;
    public final String nsIp;
    private final int subnet;

    public VethNetns() {
        String id = Kernel.uniqueSuffix();
        this.subnet = 1 + new SecureRandom().nextInt(250);
        this.netns = "xpsagent-" + id;
        this.hostIf = "xpsagent-" + id;            // 15 characters: the interface-name limit
        this.nsIf = "xpsa-" + id + "-p";
        this.hostIp = "10.251." + subnet + ".1";
        this.nsIp = "10.251." + subnet + ".2";
        boolean ok = false;
        try {
            Sh.check("ip", "netns", "add", netns);
            Sh.check("ip", "link", "add", hostIf, "type", "veth", "peer", "name", nsIf, "netns", netns);
            Sh.check("ip", "addr", "add", hostIp + "/24", "dev", hostIf);
            Sh.check("ip", "link", "set", hostIf, "up");
            Sh.check("ip", "-n", netns, "addr", "add", nsIp + "/24", "dev", nsIf);
            Sh.check("ip", "-n", netns, "link", "set", nsIf, "up");
            Sh.check("ip", "-n", netns, "link", "set", "lo", "up");
            ok = true;
        } finally {
            if (!ok) {
                close();
            }
        }
    }

    /**
     * Adds IPv6 addresses to both ends: {@code fd00:5a:N::1/64} outside, {@code fd00:5a:N::2/64} inside, with
     * {@code nodad} so they are usable at once (no duplicate address detection to wait for). Returns
     * {@code {outside, inside}}.
     */
    public String[] addIpv6() {
        String host6 = "fd00:5a:" + subnet + "::1";
        String ns6 = "fd00:5a:" + subnet + "::2";
        Sh.check("ip", "-6", "addr", "add", host6 + "/64", "dev", hostIf, "nodad");
        Sh.check("ip", "-n", netns, "-6", "addr", "add", ns6 + "/64", "dev", nsIf, "nodad");
        return new String[] {host6, ns6};
    }

    /** The inner end's ifindex, in the namespace. */
    public int nsIfindex() {
        return NetNs.ifindex(netns, nsIf);
    }

    public InetAddress nsAddress() {
        try {
            return InetAddress.getByName(nsIp);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    @Override
    public void close() {
        Sh.quietly("ip", "link", "del", hostIf);
        Sh.quietly("ip", "netns", "del", netns);
    }
}
