package dev.xps.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.agent.bpf.PreflightException;
import dev.xps.agent.testsupport.Artifacts;
import dev.xps.agent.testsupport.Cgroup;
import dev.xps.agent.testsupport.Kernel;
import dev.xps.agent.testsupport.Sh;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The agent's refusals: each names what is wrong, and leaves nothing pinned or recorded behind. */
@Tag("kernel")
class AgentErrorsTest {
    private Path pinRoot;
    private Path stateRoot;
    private Agent agent;

    @BeforeEach
    void setUp() throws Exception {
        Kernel.assumeBpf();
        pinRoot = Kernel.pinRoot();
        stateRoot = Files.createTempDirectory("xpsagent-state-");
        agent = new Agent(pinRoot, stateRoot);
    }

    @AfterEach
    void tearDown() {
        if (agent == null) {
            return;
        }
        for (String c : agent.contexts()) {
            agent.deleteContext(c);
        }
        Kernel.deleteTree(pinRoot);
        Kernel.deleteTree(stateRoot);
    }

    @Test
    void aPortAlreadyClaimedByAnotherContextIsRefused() throws Exception {
        Path artifact = Artifacts.variant("redis-get", "tcp port 6379", "tcp port 16399");
        try (Cgroup cg = new Cgroup()) {
            String a = Kernel.uniqueName();
            String b = Kernel.uniqueName();
            agent.createContext(a, artifact, Attachment.cgroup(cg.path)).close();
            var e = assertThrows(AgentException.PortClaimed.class,
                    () -> agent.createContext(b, artifact, Attachment.cgroup(cg.path)));
            assertTrue(e.getMessage().contains("port 16399/tcp (entry 'redis') is already claimed by context '" + a
                    + "'"), e.getMessage());
            assertEquals(List.of(a), agent.contexts());
            assertFalse(Files.exists(stateRoot.resolve(b)));
            var again = assertThrows(AgentException.class,
                    () -> agent.createContext(a, artifact, Attachment.cgroup(cg.path)));
            assertTrue(again.getMessage().contains("already exists"), again.getMessage());
            agent.deleteContext(a);
            assertEquals(List.of(), agent.contexts());
        }
    }

    @Test
    void anUpdateWhoseMapsChangedShapeIsRefusedAndTheContextKeepsRunning() throws Exception {
        Path artifact = Artifacts.variant("redis-get", "tcp port 6379", "tcp port 16397");
        Path smaller = Artifacts.variant("redis-get", "tcp port 6379", "tcp port 16397", "capacity 2_000_000",
                "capacity 1_000");
        Path otherPort = Artifacts.variant("redis-get", "tcp port 6379", "tcp port 16396");
        try (Cgroup cg = new Cgroup()) {
            String a = Kernel.uniqueName();
            try (Context c = agent.createContext(a, artifact, Attachment.cgroup(cg.path))) {
                c.put("cache", "k".getBytes(), "v".getBytes());
            }
            var e = assertThrows(PinnedMapMismatchException.class, () -> agent.updateContext(a, smaller));
            assertTrue(e.getMessage().contains("cache"), e.getMessage());
            var ports = assertThrows(AgentException.class, () -> agent.updateContext(a, otherPort));
            assertTrue(ports.getMessage().contains("differ from the running"), ports.getMessage());
            try (Context c = agent.context(a)) {
                assertEquals("v", new String(c.get("cache", "k".getBytes()).orElseThrow()));
                assertEquals(3, c.pinned().links().size());
            }
            agent.deleteContext(a);
        }
    }

    @Test
    void anUnknownInterfaceIsRefused() throws Exception {
        Path artifact = Artifacts.sample("udp-kv-fixed");
        String name = Kernel.uniqueName();
        var e = assertThrows(PreflightException.UnknownInterface.class,
                () -> agent.createContext(name, artifact, Attachment.iface("xpsagent-none", null)));
        assertTrue(e.getMessage().contains("xpsagent-none"), e.getMessage());
        assertEquals(List.of(), agent.contexts());
    }

    @Test
    void aTcpModuleNeedsACgroup() throws Exception {
        Path artifact = Artifacts.sample("http-block");
        var e = assertThrows(AgentException.class, () -> agent.createContext(Kernel.uniqueName(), artifact,
                Attachment.iface("lo", null)));
        assertTrue(e.getMessage().contains("--cgroup"), e.getMessage());
        var notV2 = assertThrows(PreflightException.class, () -> agent.createContext(Kernel.uniqueName(), artifact,
                Attachment.cgroup(Path.of("/tmp"))));
        assertTrue(notV2.getMessage().contains("/tmp"), notV2.getMessage());
        assertEquals(List.of(), agent.contexts());
    }

    @Test
    void aVerifierRejectionNamesTheXpsLine() throws Exception {
        Path dir = Files.createTempDirectory(stateRoot, "bad-");
        Path res = Path.of(System.getProperty("xps.test.resources", "src/test/resources")).resolve("bad-artifact");
        for (String f : List.of("bad.xps", "bad.bpf.c", "bad.manifest.json")) {
            Files.copy(res.resolve(f), dir.resolve(f), StandardCopyOption.REPLACE_EXISTING);
        }
        Sh.check("clang", "-O2", "-g", "-target", "bpf", "-mcpu=v3", "-I/usr/include/x86_64-linux-gnu", "-c",
                dir.resolve("bad.bpf.c").toString(), "-o", dir.resolve("bad.bpf.o").toString());
        String name = Kernel.uniqueName();
        var e = assertThrows(AgentException.VerifierRejected.class,
                () -> agent.createContext(name, dir, Attachment.iface("lo", null)));
        assertEquals("bad.xps:4", e.xpsLocation(), e.getMessage());
        assertTrue(e.getMessage().contains("from bad.xps:4: value = peek_without_bounds_check;"), e.getMessage());
        assertTrue(e.getMessage().contains("at bad.bpf.c:12: __u32 first = *(__u32 *)data;"), e.getMessage());
        assertTrue(e.getMessage().contains("verifier log"), e.getMessage());
        assertEquals(List.of(), agent.contexts());
        assertFalse(Files.exists(stateRoot.resolve(name)));
    }

    @Test
    void aMissingArtifactIsNamed() {
        var e = assertThrows(IllegalArgumentException.class, () -> agent.createContext(Kernel.uniqueName(),
                Path.of("/nonexistent/xpsagent"), Attachment.iface("lo", null)));
        assertTrue(e.getMessage().contains("/nonexistent/xpsagent"), e.getMessage());
    }
}
