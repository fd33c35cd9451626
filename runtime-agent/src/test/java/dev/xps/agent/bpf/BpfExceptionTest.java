package dev.xps.agent.bpf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** How failures read, without a kernel. */
class BpfExceptionTest {

    @Test
    void errnoNamesAndMessages() {
        assertEquals("EACCES: Permission denied", Errno.describe(13));
        assertEquals("E2BIG: Argument list too long", Errno.describe(-7));
        assertEquals("ENOTSUPP: Operation is not supported", Errno.describe(Errno.ENOTSUPP));
        assertEquals("LIBBPF_ERRNO__FORMAT: BPF object format invalid", Errno.describe(4001));
        assertEquals("E9999: Unknown error 9999", Errno.describe(9999));
    }

    @Test
    void headlineNamesOperationSubjectAndErrno() {
        var e = new BpfException("bpf_object__load", "redis.bpf.o", 13, "");
        assertEquals("bpf_object__load(redis.bpf.o): EACCES: Permission denied", e.getMessage());
        assertEquals("", e.verifierLog());
        var full = new BpfException.MapFull("bpf_map_update_elem", "map 'cache'", 7, 4, null);
        assertEquals("bpf_map_update_elem(map 'cache'): E2BIG: Argument list too long: the map is full"
                + " (max_entries 4)", full.getMessage());
    }

    @Test
    void verifierLogIsExtractedAndItsTailShown() {
        String verifier = IntStream.range(0, 300).mapToObj(i -> "insn " + i).collect(Collectors.joining("\n"))
                + "\ninvalid access to packet, off=0 size=4\n";
        String log = "libbpf: prog 'get': BPF program load failed: Permission denied\n"
                + "libbpf: prog 'get': -- BEGIN PROG LOAD LOG --\n" + verifier
                + "-- END PROG LOAD LOG --\nlibbpf: prog 'get': failed to load: -13\n";
        var e = new BpfException("bpf_object__load", "x.bpf.o", 13, log);
        assertEquals(verifier, e.verifierLog());
        assertTrue(e.getMessage().contains("\nverifier log:\n  [... 101 earlier lines; see log() ...]\n  insn 101\n"),
                e.getMessage());
        assertTrue(e.getMessage().endsWith("\n  invalid access to packet, off=0 size=4"), e.getMessage());
        assertEquals(log, e.log());
    }

    @Test
    void withoutAVerifierLogLibbpfsWarningsAreShown() {
        var e = new BpfException("bpf_object__open_file", "junk.bpf.o", 4001,
                "libbpf: elf: 'junk.bpf.o' is not a proper ELF object\n");
        assertEquals("bpf_object__open_file(junk.bpf.o): LIBBPF_ERRNO__FORMAT: BPF object format invalid\n"
                + "libbpf said:\n  libbpf: elf: 'junk.bpf.o' is not a proper ELF object", e.getMessage());
    }
}
