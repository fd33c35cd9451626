package dev.xps.agent.bpf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.agent.testsupport.Kernel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How libbpf and kernel failures reach Java: errno names, messages, and the verifier's log. */
@Tag("kernel")
class VerifierRejectionTest {

    @Test
    void verifierRejectionCarriesTheVerifierLogInTheException() {
        Kernel.assumeBpf();
        try (BpfObject obj = BpfObject.open(Kernel.bpfObject("bad"))) {
            BpfException e = assertThrows(BpfException.class, obj::load);
            System.out.println("verifier rejection, as the agent shows it:\n" + e.getMessage());
            assertEquals("bpf_object__load", e.operation());
            assertEquals("bad.bpf.o", e.subject());
            assertEquals("EACCES", e.errnoName());
            assertTrue(e.getMessage().startsWith("bpf_object__load(bad.bpf.o): EACCES: Permission denied\n"),
                    e.getMessage());
            // the kernel's own words, in the message and in verifierLog()
            assertTrue(e.verifierLog().contains("invalid access to packet"), e.verifierLog());
            assertTrue(e.getMessage().contains("verifier log:"), e.getMessage());
            assertTrue(e.getMessage().contains("invalid access to packet"), e.getMessage());
            // the full libbpf output names the program
            assertTrue(e.log().contains("bad_unchecked_read"), e.log());
            assertFalse(obj.isLoaded());
        }
    }

    @Test
    void loadingAValidObjectCapturesNothingAndLeavesNoThreadState() {
        Kernel.assumeBpf();
        try (var capture = LibbpfLog.capture(); BpfObject obj = BpfObject.open(Kernel.bpfObject("xdp_count"))) {
            obj.load();
            assertTrue(obj.isLoaded());
            assertEquals("", capture.text().strip(), "libbpf printed warnings for a valid object");
        }
        assertEquals("", LibbpfLog.capturedText());
    }

    @Test
    void missingObjectFileIsENOENTNamingTheFile() {
        Kernel.assumeBpf();
        BpfException e = assertThrows(BpfException.class,
                () -> BpfObject.open(Path.of("/nonexistent/xpsagent-missing.bpf.o")));
        assertEquals("ENOENT", e.errnoName());
        assertTrue(e.getMessage().startsWith(
                "bpf_object__open_file(xpsagent-missing.bpf.o): ENOENT: No such file or directory"), e.getMessage());
    }

    @Test
    void aFileThatIsNotAnElfObjectIsRejectedWithLibbpfsReason(@TempDir Path dir) throws IOException {
        Kernel.assumeBpf();
        Path junk = Files.writeString(dir.resolve("junk.bpf.o"), "this is not an ELF file\n");
        BpfException e = assertThrows(BpfException.class, () -> BpfObject.open(junk));
        System.out.println("not an object file:\n" + e.getMessage());
        assertTrue(e.getMessage().startsWith("bpf_object__open_file(junk.bpf.o): "), e.getMessage());
        assertTrue(e.getMessage().contains("libbpf said:"), e.getMessage());
        assertTrue(e.log().contains("elf"), e.log());
    }

    @Test
    void pinningWhereAPinAlreadyExistsIsEEXIST() {
        Kernel.assumeBpf();
        Path root = Kernel.pinRoot();
        try (BpfObject obj = BpfObject.open(Kernel.bpfObject("xdp_count"))) {
            Preflight.ensureBpffs(root);
            obj.load();
            try (BpfMap counts = obj.map("counts").handle()) {
                counts.pin(root.resolve("counts"));
                BpfException e = assertThrows(BpfException.class, () -> counts.pin(root.resolve("counts")));
                assertEquals("EEXIST", e.errnoName());
                assertTrue(e.getMessage().startsWith("bpf_obj_pin(map 'counts' -> " + root.resolve("counts")
                        + "): EEXIST: File exists"), e.getMessage());
            }
        } finally {
            Kernel.deleteTree(root);
        }
    }

    @Test
    void pinnedObjectOfTheWrongKindIsRefused() {
        Kernel.assumeBpf();
        Path root = Kernel.pinRoot();
        try (BpfObject obj = BpfObject.open(Kernel.bpfObject("xdp_count"))) {
            Preflight.ensureBpffs(root);
            obj.load();
            obj.program("xdp_count").pin(root.resolve("prog"));
            BpfException e = assertThrows(BpfException.class, () -> BpfMap.fromPin(root.resolve("prog")));
            assertTrue(e.getMessage().contains("pinned object is a program, not a map"), e.getMessage());
            try (BpfProgram p = BpfProgram.fromPin(root.resolve("prog"))) {
                assertEquals("xdp_count", p.name());
                assertEquals(ProgramType.XDP, p.type());
            }
        } finally {
            Kernel.deleteTree(root);
        }
    }
}
