package dev.xps.agent.testsupport;

import dev.xps.agent.PinnedContext;
import dev.xps.agent.Pins;
import dev.xps.agent.bpf.XdpMode;
import dev.xps.runtime.MapLayout;
import java.nio.file.Path;
import java.time.Duration;

/**
 * An agent to kill: loads {@code xdp_count} into a context, writes data into its {@code notes} map,
 * attaches {@code xdp_count} to an interface inside a network namespace, prints
 * {@code READY <prog id> <link id> <notes map id>} and waits to be killed.
 *
 * <p>Arguments: pin root, context, object file, netns, interface.
 */
public final class AgentChild {
    private AgentChild() {}

    public static void main(String[] args) throws Exception {
        JavaChild.exitWithParent(Duration.ofSeconds(120));
        Pins pins = Pins.of(Path.of(args[0]), args[1]);
        PinnedContext ctx = PinnedContext.load(pins, Path.of(args[2]));
        for (long k = 1; k <= 3; k++) {
            ctx.map("notes").put(MapLayout.encodeInt(k, 8), MapLayout.encodeInt(k * 0x0101010101L, 8));
        }
        var link = ctx.attachXdp("xdp_count", "xdp_count", args[3], args[4], XdpMode.GENERIC);
        System.out.println("READY " + ctx.program("xdp_count").id() + " " + link.id() + " "
                + ctx.map("notes").id());
        System.out.flush();
        Thread.sleep(Duration.ofSeconds(120));
    }
}
