package dev.xps.agent.bpf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.agent.testsupport.Cgroup;
import dev.xps.agent.testsupport.Kernel;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The legacy attachments ({@code bpf_prog_attach}/{@code bpf_prog_detach2}): they belong to the target and
 * outlive every descriptor of the program, which is why the agent uses links instead; the binding still
 * offers them (and this test keeps them honest).
 */
@Tag("kernel")
class LegacyAttachTest {

    @Test
    void cgroupSockOpsAttachStaysUntilDetached() throws Exception {
        Kernel.assumeBpf();
        try (Cgroup cgroup = new Cgroup(); BpfObject obj = BpfObject.open(Kernel.bpfObject("pingpong"))) {
            obj.load();
            try (BpfProgram sockops = obj.program("pp_sockops").handle();
                 Fd cg = Fd.adopt(Native.Libc.open(cgroup.path, Native.Libc.O_RDONLY | Native.Libc.O_DIRECTORY),
                         "cgroup")) {
                sockops.attachLegacy(cg, AttachType.CGROUP_SOCK_OPS, 0);
                try {
                    assertEquals(List.of(sockops.id()), BpfProgram.query(cg, AttachType.CGROUP_SOCK_OPS));
                } finally {
                    sockops.detachLegacy(cg, AttachType.CGROUP_SOCK_OPS);
                }
                assertTrue(BpfProgram.query(cg, AttachType.CGROUP_SOCK_OPS).isEmpty());
                BpfException again = org.junit.jupiter.api.Assertions.assertThrows(BpfException.class,
                        () -> sockops.detachLegacy(cg, AttachType.CGROUP_SOCK_OPS));
                assertEquals("ENOENT", again.errnoName(), again.getMessage());
            }
        }
    }

    @Test
    void streamVerdictAttachesToASockhashTheLegacyWay() {
        Kernel.assumeBpf();
        try (BpfObject obj = BpfObject.open(Kernel.bpfObject("pingpong"))) {
            obj.load();
            try (BpfProgram verdict = obj.program("pp_verdict").handle(); BpfMap socks = obj.map("socks").handle()) {
                verdict.attachLegacy(socks.fd(), AttachType.SK_SKB_STREAM_VERDICT, 0);
                assertEquals(List.of(verdict.id()), BpfProgram.query(socks.fd(), AttachType.SK_SKB_STREAM_VERDICT));
                verdict.detachLegacy(socks.fd(), AttachType.SK_SKB_STREAM_VERDICT);
                assertTrue(BpfProgram.query(socks.fd(), AttachType.SK_SKB_STREAM_VERDICT).isEmpty());
            }
        }
    }
}
