package dev.xps.agent.consensus;

import dev.xps.agent.bpf.BpfLink;
import dev.xps.agent.bpf.BpfObject;
import dev.xps.agent.bpf.BpfProgram;
import dev.xps.agent.bpf.NetNs;
import dev.xps.agent.bpf.Preflight;
import dev.xps.agent.bpf.XdpMode;
import dev.xps.agent.testsupport.Kernel;
import dev.xps.agent.testsupport.Sh;
import dev.xps.consensus.Group;
import dev.xps.consensus.Impairment;
import dev.xps.consensus.Member;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * A test network for a consensus group, every name prefixed {@code xdp-vr}: a switch namespace with a bridge,
 * one namespace per member ({@code ...m0}, {@code ...m1}, ...) and one for a client ({@code ...c}), each linked
 * to the bridge by a veth pair. The switch-side ends carry an XDP program (xdp_switch: XDP_PASS, or XDP_DROP
 * between members {@link #setPartitioned partitioned} from each other) so that frames a member's XDP program sends
 * back with XDP_TX are received (veth delivers XDP_TX frames to its peer's NAPI, which exists only while the peer
 * has an XDP program). {@link #close()} deletes every namespace (and with them the links).
 */
final class VrNet implements AutoCloseable {
    final String id;
    final String subnet;
    final String switchNs;
    final List<String> memberNs = new ArrayList<>();
    final String clientNs;
    private final List<BpfLink> passLinks = new ArrayList<>();
    private BpfObject pass;

    VrNet(int members) {
        this.id = HexFormat.of().toHexDigits((short) new SecureRandom().nextInt()).substring(0, 4);
        this.subnet = "10.77." + (1 + new SecureRandom().nextInt(250));
        this.switchNs = "xdp-vr-" + id + "-s";
        this.clientNs = "xdp-vr-" + id + "-c";
        boolean ok = false;
        try {
            Sh.check("ip", "netns", "add", switchNs);
            Sh.check("ip", "-n", switchNs, "link", "add", bridge(), "type", "bridge");
            Sh.check("ip", "-n", switchNs, "link", "set", bridge(), "up");
            for (int i = 0; i < members; i++) {
                String ns = "xdp-vr-" + id + "-m" + i;
                memberNs.add(ns);
                node(ns, "m" + i, ip(i), mac(i));
            }
            node(clientNs, "c", clientIp(), "02:77:00:00:00:63");
            pass = BpfObject.open(Kernel.bpfObject("xdp_switch"));
            pass.load();
            try (BpfProgram p = pass.program("xdp_switch").handle()) {
                for (int i = 0; i <= members; i++) {
                    String peer = peer(i < members ? "m" + i : "c");
                    int ifindex = NetNs.call(switchNs, () -> Preflight.ifindex(peer, switchNs));
                    passLinks.add(NetNs.call(switchNs, () -> p.attachXdp(ifindex, XdpMode.NATIVE)));
                }
            }
            ok = true;
        } finally {
            if (!ok) {
                close();
            }
        }
    }

    private void node(String ns, String tag, String ip, String mac) {
        Sh.check("ip", "netns", "add", ns);
        Sh.check("ip", "-n", switchNs, "link", "add", peer(tag), "type", "veth", "peer", "name", ifname(tag),
                "netns", ns);
        Sh.check("ip", "-n", switchNs, "link", "set", peer(tag), "master", bridge());
        Sh.check("ip", "-n", switchNs, "link", "set", peer(tag), "up");
        Sh.check("ip", "-n", ns, "link", "set", ifname(tag), "address", mac);
        Sh.check("ip", "-n", ns, "addr", "add", ip + "/24", "dev", ifname(tag));
        Sh.check("ip", "-n", ns, "link", "set", ifname(tag), "up");
        Sh.check("ip", "-n", ns, "link", "set", "lo", "up");
    }

    String bridge() {
        return "xdp-vr-" + id + "br";
    }

    /** The interface in a node's namespace, e.g. {@code xdp-vr-1a2bm0}. */
    String ifname(String tag) {
        return "xdp-vr-" + id + tag;
    }

    String memberIf(int i) {
        return ifname("m" + i);
    }

    /** Cuts member {@code i} off the bridge (down) or reconnects it (up): its switch-side veth end. */
    void setMemberLink(int i, boolean up) {
        Sh.check("ip", "-n", switchNs, "link", "set", peer("m" + i), up ? "up" : "down");
    }

    /**
     * Partitions members {@code a} and {@code b} from each other (or heals that): the switch ports drop every
     * unicast frame from one's MAC to the other's, both ways; each still reaches the client and the other members.
     */
    void setPartitioned(int a, int b, boolean partitioned) {
        try (dev.xps.agent.bpf.BpfMap blocked = pass.map("blocked").handle()) {
            for (byte[] key : List.of(pair(a, b), pair(b, a))) {
                if (partitioned) {
                    blocked.put(key, new byte[] {1});
                } else {
                    blocked.delete(key);
                }
            }
        }
    }

    /** Frames the switch dropped between partitioned members so far. */
    long partitionDrops() {
        try (dev.xps.agent.bpf.BpfMap dropped = pass.map("dropped").handle()) {
            return java.nio.ByteBuffer.wrap(dropped.lookup(new byte[4]).orElseThrow())
                    .order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        }
    }

    private static byte[] pair(int from, int to) {
        byte[] k = new byte[12];
        System.arraycopy(macBytes(from), 0, k, 0, 6);
        System.arraycopy(macBytes(to), 0, k, 6, 6);
        return k;
    }

    private String peer(String tag) {
        return ifname(tag) + "p";
    }

    String ip(int member) {
        return subnet + "." + (member + 1);
    }

    String clientIp() {
        return subnet + ".100";
    }

    static String mac(int member) {
        return "02:77:00:00:00:0" + member;
    }

    static byte[] macBytes(int member) {
        return HexFormat.ofDelimiter(":").parseHex(mac(member));
    }

    /**
     * Loss and reordering ({@link Impairment}, shared with the host-only baseline's tests) on the bridge side of
     * every link: link {@code i} is the bridge's port toward member {@code i}, the last the port toward the client.
     * Every frame crosses exactly one of them, the one toward its receiver, including the PREPAREOKs a member's
     * XDP program sends back with XDP_TX (they cross no qdisc on the member's own device).
     */
    Impairment impairment() {
        List<Impairment.Link> links = new ArrayList<>();
        for (int i = 0; i < memberNs.size(); i++) {
            links.add(new Impairment.Link(switchNs, peer("m" + i)));
        }
        links.add(new Impairment.Link(switchNs, peer("c")));
        return new Impairment(links);
    }

    Group group(int view, int port) {
        List<Member> members = new ArrayList<>();
        for (int i = 0; i < memberNs.size(); i++) {
            try {
                members.add(new Member(i, (Inet4Address) InetAddress.getByName(ip(i)), macBytes(i)));
            } catch (UnknownHostException e) {
                throw new AssertionError(e);
            }
        }
        return new Group(view, members, port);
    }

    @Override
    public void close() {
        for (BpfLink l : passLinks) {
            l.close();
        }
        if (pass != null) {
            pass.close();
        }
        for (String ns : memberNs) {
            Sh.quietly("ip", "netns", "del", ns);
        }
        Sh.quietly("ip", "netns", "del", clientNs);
        Sh.quietly("ip", "netns", "del", switchNs);
    }
}
