package dev.xps.compiler.ast;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.compiler.ast.Ast.Program;
import dev.xps.compiler.diag.DiagnosticPrinter;
import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.diag.SourceFile;
import dev.xps.compiler.driver.Compiler;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Parser round trip: printing the AST and parsing the print gives the same AST (compared through
 * its canonical print, since locations differ). Runs over every sample and a hand-written file
 * that uses every construct.
 */
class AstRoundTripTest {

    static Stream<Path> samples() throws IOException {
        Path dir = Path.of("..", "samples");
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> list = files.filter(p -> p.toString().endsWith(".xps")).sorted().toList();
            assertFalse(list.isEmpty(), "no samples found in " + dir.toAbsolutePath());
            return list.stream();
        }
    }

    @ParameterizedTest
    @MethodSource("samples")
    void samplePrintsBackToTheSameAst(Path file) throws IOException {
        assertRoundTrip(new SourceFile(file.getFileName().toString(), Files.readString(file)));
    }

    @Test
    void everyConstructPrintsBackToTheSameAst() {
        String source = """
                map h : hash<bytes[8], u32> capacity 10 with stats;
                map a : array<u16, bytes[4]> capacity 3;
                map l : log<bytes[16]> capacity 1_000;
                handler x on udp port 1000..1010 sport 5 from 10.0.0.0/8 to 192.168.1.1 {
                  decode {
                    expect "a\\x00\\"b"; expect_ci x"41 42"; skip 2; n = u8; skip(n) max 4; skip_until "," max 9;
                    d = decimal max 3 digits; v = bytes(n) max 8; f = bytes[2] at 40; u = until ";" max 7;
                    w = u32le at 4; q = u64be; require (d > 1 and not (n == 2)) or true; frame d max 100;
                  } else drop;
                  let s = (d + 1) * 2 - (n << 3 >> 1) & 255 | 4 ^ 1;
                  got = lookup h[v] else pass;
                  idx = append l u else reset;
                  update h[f] = s else drop;
                  update a[1] = f;
                  delete h["k"];
                  if len(v) >= 2 { return drop; } else if v != "zz" { encode { "a" } } else { encode { v } }
                  encode { "x" v decimal(got) u16be(idx) u32le(s) u8(1) }
                  return tx;
                }
                handler y { return pass; }
                dispatch z on tcp port 7 at offset 2 length 2 le { 1 => y; 0x10 => drop; _ => pass; }
                consensus c on udp port 9 { replicas 5; log capacity 64 entry 8; order when u16be at 1 in { 1, 2 };
                  failure_threshold 6; }
                consensus d on udp port 10 { replicas 3; log capacity 64 entry 8; order all; }
                test "t\\n" { h["abcdefgh"] = 7; a[2] = "ab"; append l "e"; send to x "p"; expect tx "r";
                  send to z x"00"; expect pass; expect h["k"] == 1; expect missing a[0]; }
                """;
        assertRoundTrip(new SourceFile("all.xps", source));
    }

    @Test
    void elseIfChainsPrintAsElseIf() {
        Program program = parse(new SourceFile("t.xps",
                "handler h on tcp port 1 { decode { a = u8; } else pass; if a == 1 { return drop; } "
                        + "else if a == 2 { return reset; } else { return pass; } }"));
        String printed = AstPrinter.print(program);
        assertTrue(printed.contains("} else if (a == 2) {"), printed);
    }

    private static void assertRoundTrip(SourceFile source) {
        String once = AstPrinter.print(parse(source));
        String twice = AstPrinter.print(parse(new SourceFile(source.name() + " (printed)", once)));
        assertEquals(once, twice, "printing and re-parsing changed the AST of " + source.name());
    }

    private static Program parse(SourceFile source) {
        Diagnostics diagnostics = new Diagnostics();
        Program program = Compiler.parse(source, diagnostics).orElse(null);
        assertFalse(diagnostics.hasErrors(), () -> new DiagnosticPrinter(Map.of(source.name(), source))
                .renderAll(diagnostics));
        return program;
    }
}
