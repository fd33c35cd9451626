package dev.xps.backend.ebpf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.backend.java.JavaBackend;
import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.target.Backend;
import dev.xps.compiler.target.GeneratedFile;
import dev.xps.compiler.target.TestOutcome;
import dev.xps.testing.SampleFiles;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The edges of the language's semantics (docs/language.md), each a small program with in-language
 * tests, run on the Java target (the reference: a wrong expectation fails there) and in the kernel
 * (UDP through XDP with BPF_PROG_TEST_RUN, TCP through real sockets). A test name says which
 * program, which test and which target.
 */
class SemanticsTest {
    static final Map<String, String> PROGRAMS = new LinkedHashMap<>();

    static {
        PROGRAMS.put("decimal", """
                handler d on udp port 1000 {
                  decode { x = decimal max 3 digits; expect ";"; } else drop;
                  encode { decimal(x) }
                  return tx;
                }
                test "one digit" { send "7;"; expect tx "7"; }
                test "as many digits as allowed" { send "123;"; expect tx "123"; }
                test "leading zeros" { send "007;"; expect tx "7"; }
                test "zero" { send "0;"; expect tx "0"; }
                test "a digit after the maximum is malformed" { send "1234;"; expect drop; }
                test "no digit is malformed" { send ";"; expect drop; }
                test "digits up to the end are incomplete" { send "12"; expect pass; }
                test "the maximum up to the end is incomplete" { send "123"; expect pass; }
                test "the byte after the digits is looked at, not consumed" { send "12x"; expect drop; }
                """);
        PROGRAMS.put("decimal-19", """
                handler big on udp port 1001 {
                  decode { x = decimal max 19 digits; expect "."; } else drop;
                  encode { decimal(x) "," u64be(x) "," decimal(x + 8446744073709551616) }
                  return tx;
                }
                test "nineteen nines" {
                  send "9999999999999999999.";
                  expect tx "9999999999999999999," x"8ac7230489e7ffff" ",18446744073709551615";
                }
                """);
        PROGRAMS.put("expect", """
                handler e on udp port 1002 {
                  decode { expect_ci "HeLLo["; expect "!"; } else drop;
                  encode { "ok" }
                  return tx;
                }
                test "letters fold" { send "hello[!"; expect tx "ok"; }
                test "a matching prefix is incomplete" { send "HEL"; expect pass; }
                test "a mismatch is malformed" { send "HEX"; expect drop; }
                test "only letters fold" { send "hello{!"; expect drop; }
                test "expect is exact" { send "hello[?"; expect drop; }
                """);
        // The runtime prints decimal(x) in three 9-digit parts: every part boundary, both ends.
        PROGRAMS.put("decimal-parts", """
                handler d on udp port 1011 {
                  decode { x = u64be; } else drop;
                  encode { decimal(x) }
                  return tx;
                }
                test "0" { send x"0000000000000000"; expect tx "0"; }
                test "9" { send x"0000000000000009"; expect tx "9"; }
                test "10" { send x"000000000000000a"; expect tx "10"; }
                test "999999999" { send x"000000003b9ac9ff"; expect tx "999999999"; }
                test "1000000000" { send x"000000003b9aca00"; expect tx "1000000000"; }
                test "1000000001" { send x"000000003b9aca01"; expect tx "1000000001"; }
                test "4294967295" { send x"00000000ffffffff"; expect tx "4294967295"; }
                test "4294967296" { send x"0000000100000000"; expect tx "4294967296"; }
                test "999999999999999999" { send x"0de0b6b3a763ffff"; expect tx "999999999999999999"; }
                test "1000000000000000000" { send x"0de0b6b3a7640000"; expect tx "1000000000000000000"; }
                test "12345678901234567890" { send x"ab54a98ceb1f0ad2"; expect tx "12345678901234567890"; }
                test "18446744073709551615" { send x"ffffffffffffffff"; expect tx "18446744073709551615"; }
                """);
        // The delimiter search tests 8 bytes at a time for the delimiter's first byte and then
        // compares in full: a delimiter at every offset around block boundaries, after bytes
        // that look like its start; a short value (word copy) and a long one (over 256 bytes).
        PROGRAMS.put("until-blocks", """
                handler u on udp port 1012 {
                  decode { skip 3; k = until "abc" max 40; rest = until "\\n" max 300; } else drop;
                  encode { decimal(len(k)) ":" k "|" rest }
                  return tx;
                }
                test "delimiter after 0 first-byte lookalikes" { send "xyzabc!\\n"; expect tx "0:|!"; }
                test "delimiter after 1 first-byte lookalikes" { send "xyzaabc!\\n"; expect tx "1:a|!"; }
                test "delimiter after 4 first-byte lookalikes" { send "xyzaaaaabc!\\n"; expect tx "4:aaaa|!"; }
                test "delimiter after 5 first-byte lookalikes" { send "xyzaaaaaabc!\\n"; expect tx "5:aaaaa|!"; }
                test "delimiter after 7 first-byte lookalikes" { send "xyzaaaaaaaabc!\\n"; expect tx "7:aaaaaaa|!"; }
                test "delimiter after 8 first-byte lookalikes" { send "xyzaaaaaaaaabc!\\n"; expect tx "8:aaaaaaaa|!"; }
                test "delimiter after 9 first-byte lookalikes" { send "xyzaaaaaaaaaabc!\\n"; expect tx "9:aaaaaaaaa|!"; }
                test "delimiter after 12 first-byte lookalikes" { send "xyzaaaaaaaaaaaaabc!\\n"; expect tx "12:aaaaaaaaaaaa|!"; }
                test "delimiter after 13 first-byte lookalikes" { send "xyzaaaaaaaaaaaaaabc!\\n"; expect tx "13:aaaaaaaaaaaaa|!"; }
                test "delimiter after 15 first-byte lookalikes" { send "xyzaaaaaaaaaaaaaaaabc!\\n"; expect tx "15:aaaaaaaaaaaaaaa|!"; }
                test "delimiter after 16 first-byte lookalikes" { send "xyzaaaaaaaaaaaaaaaaabc!\\n"; expect tx "16:aaaaaaaaaaaaaaaa|!"; }
                test "delimiter after 17 first-byte lookalikes" { send "xyzaaaaaaaaaaaaaaaaaabc!\\n"; expect tx "17:aaaaaaaaaaaaaaaaa|!"; }
                test "delimiter after 24 first-byte lookalikes" { send "xyzaaaaaaaaaaaaaaaaaaaaaaaaabc!\\n"; expect tx "24:aaaaaaaaaaaaaaaaaaaaaaaa|!"; }
                test "delimiter after 31 first-byte lookalikes" { send "xyzaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaabc!\\n"; expect tx "31:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa|!"; }
                test "delimiter after 36 first-byte lookalikes" { send "xyzaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaabc!\\n"; expect tx "36:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa|!"; }
                test "delimiter after 37 first-byte lookalikes" { send "xyzaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaabc!\\n"; expect tx "37:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa|!"; }
                test "a partial delimiter before the real one" { send "xyzababcabc!\\n"; expect tx "2:ab|abc!"; }
                test "no delimiter within the maximum is malformed" { send "xyzaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaabc!\\n"; expect drop; }
                test "no delimiter yet is incomplete" { send "xyzaaab"; expect pass; }
                test "a value over 256 bytes" { send "xyzabc01234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789\\n"; expect tx "0:|01234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"; }
                """);
        PROGRAMS.put("until", """
                handler u on udp port 1003 {
                  decode { k = until "\\r\\n" max 4; skip_until "##" max 3; } else drop;
                  encode { k "|" }
                  return tx;
                }
                test "found" { send "ab\\r\\nxyz##"; expect tx "ab|"; }
                test "an empty value" { send "\\r\\n##"; expect tx "|"; }
                test "the delimiter right after max bytes" { send "abcd\\r\\n##"; expect tx "abcd|"; }
                test "not within max is malformed" { send "abcde\\r\\n##"; expect drop; }
                test "not yet is incomplete" { send "abc"; expect pass; }
                test "a delimiter split by the end is incomplete" { send "abcd\\r"; expect pass; }
                test "skip_until too far is malformed" { send "a\\r\\nxyzw##"; expect drop; }
                test "bytes after the message are ignored" { send "a\\r\\n##tail"; expect tx "a|"; }
                """);
        PROGRAMS.put("fields", """
                handler b on udp port 1004 {
                  decode { n = u8; v = bytes(n) max 4; w = u16le; t = bytes[2] at 1; z = u32be at 0; } else drop;
                  encode { v "." u16be(w) "." t "." u32le(z) "." decimal(len(v)) }
                  return tx;
                }
                test "fields" { send x"02 4142 3412"; expect tx "AB." x"1234" ".AB." x"34424102" ".2"; }
                test "an empty bytes field" { send x"00 3412 99"; expect tx "." x"1234" "." x"3412" "." x"99123400" ".0"; }
                test "a fixed offset past the data is incomplete" { send x"00 3412"; expect pass; }
                test "a length over max is malformed" { send x"05 41424344 4546 4748"; expect drop; }
                test "a field not all here is incomplete" { send x"03 4142"; expect pass; }
                """);
        PROGRAMS.put("frame", """
                handler f on udp port 1005 {
                  decode { size = u8; frame size max 10; } else drop;
                  encode { "f" u8(size) }
                  return tx;
                }
                test "the message is the frame" { send x"03 aabb"; expect tx "f" x"03"; }
                test "a frame shorter than what was read is malformed" { send x"00"; expect drop; }
                test "a frame over max is malformed" { send x"0b"; expect drop; }
                test "a frame not all here is incomplete" { send x"05 aa"; expect pass; }
                """);
        PROGRAMS.put("arithmetic", """
                handler a on udp port 1006 {
                  decode { x = u64be; y = u8; } else drop;
                  let s = x + 1;
                  let sh = 1 << y;
                  let r = x >> y;
                  let m = x * 3;
                  encode { u64be(s) u64be(sh) u64be(r) u64be(m) u64be(x ^ 0xff) u64be(x & 0xf0) u64be(x | 1) }
                  if x > 0xfffffffffffffff0 { encode { "big" } }
                  if y - 100 > y { encode { "wrapped" } }
                  return tx;
                }
                test "u64 wraps; shifts by 64 or more give 0" {
                  send x"ffffffffffffffff 40";
                  expect tx x"0000000000000000 0000000000000000 0000000000000000 fffffffffffffffd ffffffffffffff00 00000000000000f0 ffffffffffffffff" "big" "wrapped";
                }
                test "shift by 63" {
                  send x"8000000000000000 3f";
                  expect tx x"8000000000000001 8000000000000000 0000000000000001 8000000000000000 80000000000000ff 0000000000000000 8000000000000001" "wrapped";
                }
                test "a shift by 255 gives 0" {
                  send x"0000000000000001 ff";
                  expect tx x"0000000000000002 0000000000000000 0000000000000000 0000000000000003 00000000000000fe 0000000000000000 0000000000000001";
                }
                """);
        PROGRAMS.put("maps", """
                map h : hash<u16, u32> capacity 2;
                map a : array<u8, bytes[4]> capacity 3 with stats;
                handler m on udp port 1007 {
                  decode { op = u8; k = u64be; } else drop;
                  if op == 1 { update h[k] = k else drop; encode { "u" } return tx; }
                  if op == 2 { v = lookup h[k] else pass; encode { u64be(v) } return tx; }
                  if op == 3 { delete h[k]; encode { "d" } return tx; }
                  if op == 4 { x = lookup a[k] else pass; encode { "[" x "]" } return tx; }
                  if op == 5 { update a[k] = "xy" else drop; encode { "w" } return tx; }
                  if op == 6 { delete a[k]; encode { "z" } return tx; }
                  if op == 7 { update h[k] = k; encode { "q" } return tx; }
                  return drop;
                }
                test "a stored integer keeps its low bits, in key and value" {
                  send x"01 0000000100010002";
                  expect tx "u";
                  expect h[2] == 0x00010002;
                  send x"02 0000000000000002";
                  expect tx x"0000000000010002";
                }
                test "a new key into a full hash map takes else" {
                  h[1] = 1; h[2] = 2;
                  send x"01 0000000000000003"; expect drop;
                  expect missing h[3];
                  send x"01 0000000000000002"; expect tx "u";
                }
                test "without else, an update that does not fit is skipped" {
                  h[1] = 1; h[2] = 2;
                  send x"07 0000000000000003"; expect tx "q";
                  expect missing h[3];
                }
                test "delete" {
                  h[5] = 9;
                  send x"03 0000000000000005"; expect tx "d";
                  expect missing h[5];
                  send x"03 0000000000000005"; expect tx "d";
                }
                test "array slots start empty; outside the range misses" {
                  send x"04 0000000000000000"; expect tx "[]";
                  send x"04 0000000000000003"; expect pass;
                }
                test "an array index keeps the low bits of its type" {
                  a[0] = "q";
                  send x"04 0000000000000100"; expect tx "[q]";
                }
                test "array update and delete" {
                  send x"05 0000000000000001"; expect tx "w";
                  expect a[1] == "xy";
                  send x"05 0000000000000003"; expect drop;
                  send x"06 0000000000000001"; expect tx "z";
                  expect a[1] == "";
                }
                """);
        PROGRAMS.put("log", """
                map l : log<u16> capacity 2;
                handler g on udp port 1008 {
                  decode { op = u8; v = u64be; } else drop;
                  if op == 1 { i = append l v else drop; encode { u8(i) } return tx; }
                  x = lookup l[v] else pass;
                  encode { u16be(x) }
                  return tx;
                }
                test "appends are numbered from 1 until the log is full" {
                  send x"01 0000000000010005"; expect tx x"01";
                  send x"01 0000000000000006"; expect tx x"02";
                  send x"01 0000000000000007"; expect drop;
                  expect l[1] == 5;
                  expect l[2] == 6;
                  expect missing l[3];
                }
                test "lookups" {
                  append l 9;
                  send x"02 0000000000000001"; expect tx x"0009";
                  send x"02 0000000000000002"; expect pass;
                  send x"02 0000000000000000"; expect pass;
                }
                """);
        PROGRAMS.put("dispatch", """
                dispatch sel on udp port 1009 at offset 1 length 2 le { 0x0201 => one; 3 => drop; _ => two; }
                handler one { decode { skip 3; } else drop; encode { "1" } return tx; }
                handler two { decode { skip 1; } else drop; encode { "2" } return tx; }
                test "a little-endian selector" { send x"00 0102"; expect tx "1"; }
                test "an arm with a verdict" { send x"00 0300"; expect drop; }
                test "the default arm" { send x"00 0000"; expect tx "2"; }
                test "a message too short for the selector is incomplete" { send x"00 01"; expect pass; }
                """);
        PROGRAMS.put("bytes-equality", """
                handler q on udp port 1010 {
                  decode { a = until "," max 8; b = until "." max 8; } else drop;
                  if a == b { encode { "same" } return tx; }
                  if a == "x" { encode { "x" } return tx; }
                  if a != "abcdefgh" { encode { "diff" } return tx; }
                  encode { "long" }
                  return tx;
                }
                test "equal" { send "ab,ab."; expect tx "same"; }
                test "a prefix is not equal" { send "ab,abc."; expect tx "diff"; }
                test "equal to a constant" { send "x,y."; expect tx "x"; }
                test "eight bytes that differ in the last" { send "abcdefgh,abcdefgi."; expect tx "long"; }
                test "empty values are equal" { send ",."; expect tx "same"; }
                """);
        PROGRAMS.put("values", """
                map m1 : hash<bytes[6], bytes[6]> capacity 4;
                map m2 : hash<bytes[8], u8> capacity 4;
                handler chain on udp port 1011 {
                  decode { k = bytes[2]; } else drop;
                  v = lookup m1[k] else pass;
                  n = lookup m2[v] else pass;
                  let c = "=";
                  let same = v;
                  encode { same c u8(n) decimal(len(c)) decimal(len(v)) }
                  update m2["new"] = n + 1;
                  update m1[v] = k;
                  return tx;
                }
                test "a looked-up value is a key; constants and aliases" {
                  m1["ab"] = "xyz";
                  m2["xyz"] = 7;
                  send "ab";
                  expect tx "xyz=" x"07" "13";
                  expect m2["new"] == 8;
                  expect m1["xyz"] == "ab";
                }
                test "a miss on the second lookup" { m1["ab"] = "q"; send "ab"; expect pass; }
                """);
        PROGRAMS.put("reply-sizes", replySizes());
        PROGRAMS.put("out-bytes", outBytes());
        PROGRAMS.put("tcp-segments", """
                handler seg on tcp port 2000 {
                  decode { c = u8; } else drop;
                  if c == 0x74 { encode { "T" } return tx; }
                  if c == 0x70 { return pass; }
                  if c == 0x72 { return reset; }
                  return drop;
                }
                test "pipelined answers are concatenated in order" { send "ttt"; expect tx "TTT"; }
                test "dropped messages add nothing" { send "tdt"; expect tx "TT"; }
                test "any pass passes the whole segment" { send "tpt"; expect pass; }
                test "all dropped" { send "dd"; expect drop; }
                test "reset ends the walk" { send "trt"; expect reset; }
                test "reset after a pass" { send "pr"; expect reset; }
                test "32 messages are walked" {
                  send "tttttttttttttttttttttttttttttttt";
                  expect tx "TTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTT";
                }
                test "a 33rd message passes the segment" { send "ttttttttttttttttttttttttttttttttt"; expect pass; }
                """);
        PROGRAMS.put("tcp-messages", """
                map w : hash<u8, u8> capacity 8;
                handler two on tcp port 2001 {
                  decode { k = u8; expect "b"; } else drop;
                  update w[k] = 1;
                  if k == 0x70 { return pass; }
                  encode { "!" }
                  return tx;
                }
                test "two messages" { send "abab"; expect tx "!!"; }
                test "a complete message then an incomplete one passes" { send "aba"; expect pass; }
                test "a malformed message takes the rest of the segment" { send "abxxab"; expect tx "!"; }
                test "map writes stay when the segment passes" {
                  send "abpb";
                  expect pass;
                  expect w[0x61] == 1;
                  expect w[0x70] == 1;
                }
                """);
    }

    /** n bytes of a repeating pattern with no quotes or backslashes. */
    private static String pattern(int n) {
        StringBuilder b = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            b.append((char) ('a' + i % 26));
        }
        return b.toString();
    }

    /**
     * UDP replies of every length class the reply path treats differently: odd and even (the UDP checksum
     * pads the last piece), around the 512-byte pieces bpf_csum_diff takes, around 64 bytes (bytes values
     * up to 64 are appended a word at a time, longer ones with a helper), and an empty datagram. The test
     * runner checks each reply's IP and UDP checksums (a reply with a wrong or missing UDP checksum fails).
     */
    private static String replySizes() {
        StringBuilder b = new StringBuilder("""
                handler r on udp port 1013 {
                  decode { n = u16be; v = bytes(n) max 1100; } else drop;
                  if n == 0 { encode { v } return tx; }
                  encode { "<" v ">" }
                  return tx;
                }
                """);
        for (int n : new int[] {1, 2, 7, 8, 9, 62, 63, 64, 65, 66, 508, 509, 510, 511, 512, 1020, 1021, 1022, 1023, 1100}) {
            b.append("test \"a reply of ").append(n + 2).append(" bytes\" { send x\"")
                    .append(String.format("%04x", n)).append("\" \"").append(pattern(n)).append("\"; expect tx \"<")
                    .append(pattern(n)).append(">\"; }\n");
        }
        b.append("test \"an empty datagram\" { send x\"0000\"; expect tx \"\"; }\n");
        return b.toString();
    }

    /**
     * Bytes values from a map appended back to back at every alignment: each word-at-a-time copy writes up
     * to 7 bytes past its value, which the next item must overwrite.
     */
    private static String outBytes() {
        StringBuilder b = new StringBuilder("""
                map t : hash<u8, bytes[100]> capacity 8;
                handler o on udp port 1014 {
                  decode { k = u8; j = u8; } else drop;
                  a = lookup t[k] else pass;
                  c = lookup t[j] else pass;
                  encode { a c "|" a a decimal(len(a)) c }
                  return tx;
                }
                """);
        int[][] pairs = {{1, 2}, {3, 5}, {7, 8}, {8, 9}, {63, 1}, {64, 64}, {65, 63}, {64, 100}, {100, 7}};
        for (int[] p : pairs) {
            String x = pattern(p[0]).toUpperCase();
            String y = pattern(p[1]);
            b.append("test \"values of ").append(p[0]).append(" and ").append(p[1]).append(" bytes\" { t[1] = \"")
                    .append(x).append("\"; t[2] = \"").append(y).append("\"; send x\"0102\"; expect tx \"")
                    .append(x).append(y).append("|").append(x).append(x).append(p[0]).append(y).append("\"; }\n");
        }
        return b.toString();
    }

    @TestFactory
    Stream<DynamicNode> onBothTargets() {
        List<DynamicNode> out = new ArrayList<>();
        for (Map.Entry<String, String> p : PROGRAMS.entrySet()) {
            IrModule module = SampleFiles.compile(p.getKey() + ".xps", p.getValue());
            List<DynamicNode> targets = new ArrayList<>();
            targets.add(target("java (reference)", new JavaBackend(), module));
            targets.add(target("ebpf (kernel)", new EbpfBackend(), module));
            out.add(DynamicContainer.dynamicContainer(p.getKey(), targets));
        }
        return out.stream();
    }

    private static DynamicNode target(String name, Backend backend, IrModule module) {
        if (backend instanceof EbpfBackend) {
            var why = KernelEnvironment.unavailable();
            if (why.isPresent()) {
                return DynamicTest.dynamicTest(name, () -> KernelAssumptions.requireKernel());
            }
        }
        Diagnostics d = new Diagnostics();
        List<GeneratedFile> files = backend.generate(module, d);
        assertFalse(d.hasErrors(), () -> backend.name() + ": " + d.sorted());
        List<TestOutcome> outcomes = backend.testRunner().orElseThrow().run(module, files);
        assertEquals(module.tests().size(), outcomes.size());
        return DynamicContainer.dynamicContainer(name, outcomes.stream().map(o -> DynamicTest.dynamicTest(o.testName(),
                () -> assertTrue(o.passed(), o.location() + ": " + o.detail()))));
    }
}
