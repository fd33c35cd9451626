package dev.xps.consensus;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Loss and reordering on a set of links (each the egress of one network device in one namespace). The host-only
 * baseline's {@link NetLab} impairs the namespace side of every member's and the client's veth; the data plane's
 * test network (runtime-agent, through this module's test-jar) impairs the bridge side instead, because frames a
 * member's XDP program sends back ({@code XDP_TX}) never cross a qdisc on their sender's device.
 *
 * <p>With {@code sch_netem}: {@code netem delay 1ms 500us loss 5% reorder 25% 50%}. Kernels built without netem
 * (this project's machines: CONFIG_NET_SCH_NETEM is not set) get the same effect from what they have: an HTB root
 * whose classic-BPF filter draws a random number per packet ({@code ld rand}) and sends 5% to a class whose
 * {@code pfifo limit 0} drops them, 25% to a 300 kbit/s class whose queue delays them behind later packets of the
 * fast class (reordering), and the rest straight through.
 */
public final class Impairment {
    /** The egress of device {@code dev} in network namespace {@code netns}. */
    public record Link(String netns, String dev) {}

    private static final Pattern SENT = Pattern.compile("Sent \\d+ bytes (\\d+) pkt \\(dropped (\\d+)");

    private final List<Link> links;
    private String kind;

    public Impairment(List<Link> links) {
        this.links = List.copyOf(links);
    }

    /**
     * Installs the impairment on every link.
     *
     * @return which of the two was installed ("netem" or "htb+bpf")
     */
    public String install() {
        boolean netem = true;
        for (int i = 0; i < links.size(); i++) {
            Link l = links.get(i);
            if (netem) {
                try {
                    tc(l, "qdisc", "replace", "dev", l.dev(), "root", "netem", "delay", "1ms", "500us", "loss", "5%",
                            "reorder", "25%", "50%");
                    continue;
                } catch (IllegalStateException e) {
                    if (!e.getMessage().contains("qdisc kind is unknown") || i > 0) {
                        throw e;
                    }
                    netem = false;
                }
            }
            tc(l, "qdisc", "replace", "dev", l.dev(), "root", "handle", "1:", "htb", "default", "1", "r2q", "100000");
            tc(l, "class", "add", "dev", l.dev(), "parent", "1:", "classid", "1:1", "htb", "rate", "10gbit");
            tc(l, "class", "add", "dev", l.dev(), "parent", "1:", "classid", "1:2", "htb", "rate", "10gbit");
            tc(l, "qdisc", "add", "dev", l.dev(), "parent", "1:2", "handle", "20:", "pfifo", "limit", "0");
            tc(l, "class", "add", "dev", l.dev(), "parent", "1:", "classid", "1:3", "htb", "rate", "300kbit", "burst",
                    "200b", "cburst", "200b", "quantum", "1500");
            tc(l, "qdisc", "add", "dev", l.dev(), "parent", "1:3", "handle", "30:", "pfifo", "limit", "30");
            // A = random u32; A %= 100; A < 5 -> class 1:2 (drop); A < 30 -> class 1:3 (slow); else 1:1.
            tc(l, "filter", "add", "dev", l.dev(), "parent", "1:", "bpf", "bytecode",
                    "7,32 0 0 4294963256,148 0 0 100,53 1 0 5,6 0 0 65538,53 1 0 30,6 0 0 65539,6 0 0 65537");
        }
        kind = netem ? "netem" : "htb+bpf";
        return kind;
    }

    /** What {@link #install()} installed: "netem", "htb+bpf", or null before it ran. */
    public String kind() {
        return kind;
    }

    /** Packets the impairment dropped and delayed on link {@code i} (htb+bpf only; netem: -1 each). */
    public long[] counts(int i) {
        Link l = links.get(i);
        String out = NetLab.run(List.of("ip", "netns", "exec", l.netns(), "tc", "-s", "class", "show", "dev",
                l.dev()));
        long dropped = -1;
        long delayed = -1;
        String[] lines = out.split("\n");
        for (int k = 0; k + 1 < lines.length; k++) {
            Matcher m = SENT.matcher(lines[k + 1]);
            if (!m.find()) {
                continue;
            }
            if (lines[k].contains("class htb 1:2 ")) {
                dropped = Long.parseLong(m.group(2));
            } else if (lines[k].contains("class htb 1:3 ")) {
                delayed = Long.parseLong(m.group(1));
            }
        }
        return new long[] {dropped, delayed};
    }

    /** Removes the impairment from every link (deleting the namespaces removes it too). */
    public void clear() {
        for (Link l : links) {
            tc(l, "qdisc", "del", "dev", l.dev(), "root");
        }
    }

    private static void tc(Link l, String... args) {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", l.netns(), "tc"));
        cmd.addAll(List.of(args));
        NetLab.run(cmd);
    }
}
