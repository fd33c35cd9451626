package dev.xps.backend.java;

import static dev.xps.backend.java.Ir.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.compiler.ir.IrExpr.BinaryOp;
import dev.xps.compiler.ir.IrHandler;
import dev.xps.compiler.ir.IrLocal;
import dev.xps.compiler.ir.Verdict;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class NamingTest {
    @Test
    void classNamesAreUpperCamelCase() {
        assertEquals("RedisGet", JavaNames.className("redis-get"));
        assertEquals("MemcachedUdp", JavaNames.className("memcached_udp"));
        assertEquals("HttpBlock", JavaNames.className("http.block"));
        assertEquals("Xps2pc", JavaNames.className("2pc"));
        assertEquals("Xps", JavaNames.className("--"));
    }

    @Test
    void constantsAreNamedAfterTheirText() {
        assertEquals("GET", Constants.nameFor(b("GET")));
        assertEquals("CRLF", Constants.nameFor(b("\r\n")));
        assertEquals("CRLF_DOLLAR", Constants.nameFor(b("\r\n$")));
        assertEquals("STAR_2_CRLF_DOLLAR_3", Constants.nameFor(b("*2\r\n$3\r\n")));
        assertEquals("VALUE_SP", Constants.nameFor(b("VALUE ")));
        assertEquals("HTTP_1_1_405_METHOD", Constants.nameFor(b("HTTP/1.1 405 Method Not Allowed\r\n")));
        assertEquals("LIT_0", Constants.nameFor(b("0")));
        assertEquals("LITERAL", Constants.nameFor(b("")));
        assertEquals("BYTES_00FF", Constants.nameFor(new byte[] {0, -1}));
        assertEquals("BYTES", Constants.nameFor(new byte[20]));
    }

    @Test
    void sameTextIsOneConstantAndCaseVariantsStayApart() {
        JavaNames.Allocator names = new JavaNames.Allocator(Set.of());
        Constants constants = new Constants(names);
        assertEquals("GET", constants.of(b("GET"), "a:1"));
        assertEquals("GET", constants.of(b("GET"), "a:2"));
        assertEquals("GET_LOWER", constants.of(b("get"), "a:3"));
        assertEquals("GET_2", constants.of(b("Get"), "a:4"));
        assertEquals(3, constants.fields().size());
    }

    @Test
    void reservedNamesAreRenamedConsistently() {
        IrLocal klass = u64("class");
        IrLocal longName = bool("Long");
        IrLocal msg = u64("msg");
        IrHandler h = handler("switch",
                let(klass, num(1)),
                let(longName, bin(BinaryOp.LT, ref(klass), num(2))),
                let(msg, ref(klass)),
                encode(dec(ref(msg))),
                ret(Verdict.TX));
        String source = Run.source(single(List.of(), h, List.of()));
        assertTrue(source.contains("long class_ = 1L;"), source);
        assertTrue(source.contains("Long.compareUnsigned(class_, 2L) < 0"), source);
        assertTrue(source.contains("long msg_ = class_;"), source);
        assertTrue(source.contains("boolean Long_ = "), source);
        assertTrue(source.contains("private Verdict switch_(Message msg, Response out)"), source);
        assertTrue(source.contains("this::switch_"), source);
    }

    @Test
    void expressionsKeepTheirShapeWithFewParentheses() {
        IrLocal a = u64("a");
        IrLocal v = bytes("v", 4);
        IrHandler h = handler("h",
                let(a, bin(BinaryOp.MUL, bin(BinaryOp.ADD, num(1), num(2)), num(3))),
                let(a, bin(BinaryOp.ADD, num(1), bin(BinaryOp.MUL, num(2), num(3)))),
                let(v, str("ab")),
                let(a, bin(BinaryOp.MUL, len(ref(v)), len(ref(v)))),
                let(a, bin(BinaryOp.ADD, bin(BinaryOp.BIT_AND, ref(a), num(1)), num(1))),
                let(a, bin(BinaryOp.BIT_AND, bin(BinaryOp.ADD, ref(a), num(1)), num(1))),
                ret(Verdict.DROP));
        String source = Run.source(single(List.of(), h, List.of()));
        assertTrue(source.contains("= (1L + 2L) * 3L;"), source);
        assertTrue(source.contains("= 1L + 2L * 3L;"), source);
        assertTrue(source.contains("= (long) v.length * v.length;"), source);
        assertTrue(source.contains("= (a & 1L) + 1L;"), source);
        assertTrue(source.contains("= (a + 1L) & 1L;"), source);
    }

    @Test
    void largeUnsignedConstantsAreHex() {
        assertEquals("0xFFFFFFFFFFFFFFFFL", ExprEmitter.longLiteral(-1L));
        assertEquals("42L", ExprEmitter.longLiteral(42));
        assertEquals("2_000_000L", JavaGenerator.capacity(2_000_000));
        assertEquals("1000L", JavaGenerator.capacity(1000));
        assertEquals("65_536L", JavaGenerator.capacity(65536));
    }
}
