package dev.xps.agent;

import dev.xps.agent.bpf.XdpMode;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Where a context's entry points attach: a cgroup v2 directory for TCP entry points (the service must be in
 * it before it listens), an interface (optionally inside a named network namespace) for UDP/XDP ones.
 */
public record Attachment(Optional<Path> cgroup, Optional<String> iface, Optional<String> netns, XdpMode xdpMode) {
    public static Attachment cgroup(Path cgroup) {
        return new Attachment(Optional.of(cgroup), Optional.empty(), Optional.empty(), XdpMode.GENERIC);
    }

    public static Attachment iface(String iface, String netns) {
        return new Attachment(Optional.empty(), Optional.of(iface), Optional.ofNullable(netns), XdpMode.GENERIC);
    }

    public Attachment withInterface(String iface, String netns) {
        return new Attachment(cgroup, Optional.of(iface), Optional.ofNullable(netns), xdpMode);
    }

    Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cgroup", cgroup.map(Path::toString).orElse(null));
        m.put("interface", iface.orElse(null));
        m.put("netns", netns.orElse(null));
        m.put("xdpMode", xdpMode.name());
        return m;
    }

    static Attachment fromJson(Map<String, Object> m) {
        return new Attachment(Optional.ofNullable((String) m.get("cgroup")).map(Path::of),
                Optional.ofNullable((String) m.get("interface")), Optional.ofNullable((String) m.get("netns")),
                XdpMode.valueOf((String) m.get("xdpMode")));
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder();
        cgroup.ifPresent(c -> b.append("cgroup ").append(c));
        iface.ifPresent(i -> b.append(b.isEmpty() ? "" : ", ").append("interface ").append(i)
                .append(netns.map(n -> " in netns " + n).orElse("")));
        return b.toString();
    }
}
