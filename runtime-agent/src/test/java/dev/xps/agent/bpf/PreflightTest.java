package dev.xps.agent.bpf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.agent.testsupport.JavaChild;
import dev.xps.agent.testsupport.Kernel;
import dev.xps.agent.testsupport.PreflightChild;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Each preflight failure is its own exception with a sentence that says what to do. */
class PreflightTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    @Test
    void capabilityMaskIsReadFromProcStatus() {
        String status = "Name:\tjava\nCapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\n"
                + "CapEff:\t000001ffffffffff\nCapBnd:\t000001ffffffffff\n";
        assertEquals(0x1ffffffffffL, Preflight.parseCapEff(status));
        assertEquals(0, Preflight.parseCapEff("Name:\tx\n"));
    }

    @Test
    void missingCapabilitiesAreNamed() {
        assertTrue(Preflight.privilegeProblem(0x1ffffffffffL).isEmpty(), "root");
        long bpfNetPerfmon = (1L << Preflight.CAP_BPF) | (1L << Preflight.CAP_NET_ADMIN) | (1L << Preflight.CAP_PERFMON);
        assertTrue(Preflight.privilegeProblem(bpfNetPerfmon).isEmpty(), "the fine-grained capabilities suffice");
        String none = Preflight.privilegeProblem(0).orElseThrow();
        assertTrue(none.contains("lacks CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON"), none);
        String noNet = Preflight.privilegeProblem((1L << Preflight.CAP_BPF) | (1L << Preflight.CAP_PERFMON)).orElseThrow();
        assertTrue(noNet.contains("lacks CAP_NET_ADMIN ("), noNet);
    }

    @Test
    @Tag("kernel")
    void everythingPassesOnThisMachine() {
        Kernel.assumeBpf();
        Path root = Kernel.pinRoot().resolve("nested");
        try {
            Preflight.check(root);
            assertTrue(Files.isDirectory(root));
            assertTrue(Preflight.isBpffs(root));
            Preflight.requireCgroupV2(Preflight.DEFAULT_CGROUP2);
        } finally {
            Kernel.deleteTree(root.getParent());
        }
    }

    @Test
    @Tag("kernel")
    void aProcessWithoutCapabilitiesIsToldItNeedsRoot() throws Exception {
        Kernel.assumeBpf();
        // root, but with an empty capability bounding set: what a container without privileges looks like
        String out = runChild(List.of("setpriv", "--bounding-set=-all", "--inh-caps=-all"), List.of(),
                Kernel.pinRoot().toString());
        assertTrue(out.startsWith("NotPrivileged: the XPS agent needs root, or the capabilities CAP_BPF,"
                + " CAP_NET_ADMIN and CAP_PERFMON"), out);
        assertTrue(out.contains("lacks CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON"), out);
    }

    @Test
    @Tag("kernel")
    void aMissingLibbpfIsNamedWithTheInstallHint() throws Exception {
        Kernel.assumeBpf();
        String out = runChild(List.of(), List.of("-Dxps.libbpf=/nonexistent/xpsagent/libbpf.so.1"),
                Kernel.pinRoot().toString());
        assertTrue(out.startsWith("LibbpfMissing: libbpf is not available: cannot load"
                + " /nonexistent/xpsagent/libbpf.so.1"), out);
        assertTrue(out.contains("apt-get install libbpf1"), out);
    }

    @Test
    void aMissingKernelBtfIsNamed() {
        var e = assertThrows(PreflightException.KernelBtfMissing.class,
                () -> Preflight.requireKernelBtf(Path.of("/nonexistent/vmlinux")));
        assertTrue(e.getMessage().contains("CONFIG_DEBUG_INFO_BTF"), e.getMessage());
    }

    @Test
    @Tag("kernel")
    void aBpfFilesystemIsMountedWhereThereIsNone() throws IOException {
        Kernel.assumeBpf();
        Path dir = Path.of("/tmp", Kernel.uniqueName());
        Path pinRoot = dir.resolve("xps");
        Files.createDirectory(dir);
        try {
            assertFalse(Preflight.isBpffs(dir));
            Preflight.ensureBpffs(pinRoot);     // not below /sys/fs/bpf: mounted at the pin root itself
            assertTrue(Preflight.isBpffs(pinRoot), "mounted");
            assertFalse(Preflight.isBpffs(dir));
            Preflight.ensureBpffs(pinRoot);     // idempotent
        } finally {
            if (Files.exists(pinRoot) && Preflight.isBpffs(pinRoot)) {
                Native.Libc.umount(pinRoot);
            }
            Files.deleteIfExists(pinRoot);
            Files.deleteIfExists(dir);
        }
    }

    @Test
    @Tag("kernel")
    void aBpfFilesystemThatCannotBeMountedIsNamed() {
        Kernel.assumeBpf();
        var e = assertThrows(PreflightException.BpffsUnavailable.class,
                () -> Preflight.ensureBpffs(Path.of("/proc/xpsagent-nope/xps")));
        assertTrue(e.getMessage().startsWith("no BPF filesystem at /proc/xpsagent-nope/xps and it cannot be"
                + " mounted"), e.getMessage());
        assertTrue(e.getMessage().endsWith("Mount it with: mount -t bpf bpf /proc/xpsagent-nope/xps"),
                e.getMessage());
    }

    @Test
    @Tag("kernel")
    void aCgroupPathThatIsNotCgroupV2IsNamed() {
        Kernel.assumeBpf();
        var missing = assertThrows(PreflightException.CgroupV2Missing.class,
                () -> Preflight.requireCgroupV2(Path.of("/sys/fs/cgroup/unified/xpsagent-nope")));
        assertTrue(missing.getMessage().contains("(no such directory)"), missing.getMessage());
        var notV2 = assertThrows(PreflightException.CgroupV2Missing.class,
                () -> Preflight.requireCgroupV2(Path.of("/tmp")));
        assertTrue(notV2.getMessage().contains("it is not on a cgroup2 filesystem"), notV2.getMessage());
    }

    @Test
    @Tag("kernel")
    void anUnknownInterfaceIsNamed() {
        Kernel.assumeBpf();
        var e = assertThrows(PreflightException.UnknownInterface.class, () -> Preflight.ifindex("xpsagent-none"));
        assertEquals("no network interface named 'xpsagent-none' (see: ip link show)", e.getMessage());
        assertThrows(PreflightException.UnknownInterface.class, () -> Preflight.ifindex("a/b"));
        assertEquals(1, Preflight.ifindex("lo"));
    }

    private static String runChild(List<String> wrapper, List<String> jvmArgs, String pinRoot) throws Exception {
        List<String> cmd = new ArrayList<>(wrapper);
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.addAll(jvmArgs);
        cmd.add("-cp");
        cmd.add(String.join(java.io.File.pathSeparator, location(PreflightChild.class), location(Preflight.class)));
        cmd.add(PreflightChild.class.getName());
        cmd.add(pinRoot);
        var r = dev.xps.agent.testsupport.Sh.run(TIMEOUT, cmd);
        return r.output().lines().filter(l -> l.startsWith("PREFLIGHT ")).findFirst()
                .map(l -> l.substring("PREFLIGHT ".length()))
                .orElseThrow(() -> new AssertionError("no PREFLIGHT line from the child:\n" + r.output()));
    }

    private static String location(Class<?> c) throws Exception {
        return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    }
}
