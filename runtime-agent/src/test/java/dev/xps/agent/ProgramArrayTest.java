package dev.xps.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.agent.bpf.BpfMap;
import dev.xps.agent.bpf.TestRun;
import dev.xps.agent.testsupport.Kernel;
import java.nio.file.Path;
import java.util.OptionalInt;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Handlers reached by tail calls through a program array: the agent fills the slots, swaps them (the
 * handler changes for everything running the entry program, existing connections included), and the
 * slots survive the agent because the array is pinned.
 */
@Tag("kernel")
class ProgramArrayTest {
    private Path root;
    private Pins pins;

    @BeforeEach
    void setUp() {
        Kernel.assumeBpf();
        root = Kernel.pinRoot();
        pins = Pins.of(root, "tail");
    }

    @AfterEach
    void tearDown() {
        Kernel.deleteTree(root);
    }

    private static int run(PinnedContext ctx) {
        return ctx.program("tc_entry").testRun(new byte[64], 1).returnValue();
    }

    @Test
    void slotsAreFilledSwappedAndKeptAcrossAgents() {
        try (PinnedContext ctx = PinnedContext.load(pins, Kernel.bpfObject("tailcall"))) {
            BpfMap handlers = ctx.map("handlers");
            assertEquals(TestRun.XDP_PASS, run(ctx), "empty slot");
            handlers.setProgram(0, ctx.program("tc_drop"));
            assertEquals(OptionalInt.of(ctx.program("tc_drop").id()), handlers.programAt(0));
            assertEquals(TestRun.XDP_DROP, run(ctx));
            handlers.setProgram(0, ctx.program("tc_tx"));
            assertEquals(TestRun.XDP_TX, run(ctx), "swapped");
        }
        // every descriptor closed: the pinned array keeps its slots
        try (PinnedContext ctx = PinnedContext.adopt(pins)) {
            assertEquals(TestRun.XDP_TX, run(ctx));
            assertTrue(ctx.map("handlers").clearProgram(0));
            assertEquals(TestRun.XDP_PASS, run(ctx));
            assertEquals(OptionalInt.empty(), ctx.map("handlers").programAt(0));
            ctx.unload();
        }
    }

    @Test
    void programSlotsOnlyExistInProgramArrays() {
        try (PinnedContext ctx = PinnedContext.load(pins, Kernel.bpfObject("xdp_count"))) {
            var e = assertThrows(IllegalStateException.class,
                    () -> ctx.map("counts").setProgram(0, ctx.program("xdp_count")));
            assertTrue(e.getMessage().endsWith("is not a program array"), e.getMessage());
            ctx.unload();
        }
    }
}
