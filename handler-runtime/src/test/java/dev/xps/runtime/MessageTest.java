package dev.xps.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class MessageTest {
    static Message msg(String text) {
        return Message.of(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    static byte[] b(String text) {
        return text.getBytes(StandardCharsets.ISO_8859_1);
    }

    static void incomplete(Executable step) {
        assertEquals(Incomplete.INSTANCE, assertThrows(Incomplete.class, step));
    }

    static void malformed(Executable step) {
        assertEquals(Malformed.INSTANCE, assertThrows(Malformed.class, step));
    }

    @Nested
    class Expect {
        @Test
        void fullMatchAdvances() {
            Message m = msg("GET key");
            m.expect(b("GET "));
            assertEquals(4, m.cursor());
            assertEquals(4, m.furthest());
        }

        @Test
        void matchingPrefixIsIncomplete() {
            incomplete(() -> msg("GE").expect(b("GET")));
        }

        @Test
        void nothingReceivedIsIncomplete() {
            incomplete(() -> msg("").expect(b("GET")));
        }

        @Test
        void mismatchingPrefixIsMalformed() {
            malformed(() -> msg("GX").expect(b("GET")));
        }

        @Test
        void mismatchWithEverythingReceivedIsMalformed() {
            malformed(() -> msg("PUT x").expect(b("GET")));
        }

        @Test
        void caseMattersForExpect() {
            malformed(() -> msg("get").expect(b("GET")));
        }

        @Test
        void ignoreCaseFoldsAsciiLetters() {
            Message m = msg("gEt\r\n");
            m.expectIgnoreCase(b("GET"));
            assertEquals(3, m.cursor());
        }

        @Test
        void ignoreCaseDoesNotFoldOtherBytes() {
            // '@' (0x40) and '`' (0x60) differ by the case bit but are not letters.
            malformed(() -> msg("@").expectIgnoreCase(b("`")));
            malformed(() -> msg("[").expectIgnoreCase(b("{")));
        }

        @Test
        void ignoreCasePrefixIsIncomplete() {
            incomplete(() -> msg("ge").expectIgnoreCase(b("GET")));
            malformed(() -> msg("gx").expectIgnoreCase(b("GET")));
        }
    }

    @Nested
    class Skip {
        @Test
        void skipsExactly() {
            Message m = msg("abcd");
            m.skip(4);
            assertEquals(4, m.cursor());
        }

        @Test
        void tooFewBytesIsIncomplete() {
            incomplete(() -> msg("abc").skip(4));
        }

        @Test
        void variableCountOverMaxIsMalformedEvenWhenBytesAreMissing() {
            malformed(() -> msg("").skip(9L, 8));
        }

        @Test
        void variableCountIsUnsigned() {
            malformed(() -> msg("abc").skip(-1L, 8));
        }

        @Test
        void variableCountWithinMax() {
            Message m = msg("abcdef");
            m.skip(3L, 8);
            assertEquals(3, m.cursor());
            incomplete(() -> msg("ab").skip(3L, 8));
        }
    }

    @Nested
    class SkipUntilAndUntil {
        @Test
        void findsTheDelimiterAndConsumesIt() {
            Message m = msg("key\r\nrest");
            assertArrayEquals(b("key"), m.until(b("\r\n"), 8));
            assertEquals(5, m.cursor());
        }

        @Test
        void delimiterAtTheCursorGivesEmptyValue() {
            Message m = msg("\r\nx");
            assertArrayEquals(new byte[0], m.until(b("\r\n"), 8));
            assertEquals(2, m.cursor());
        }

        @Test
        void delimiterMayStartExactlyMaxBytesAfterTheCursor() {
            Message m = msg("abcd\r\n");
            assertArrayEquals(b("abcd"), m.until(b("\r\n"), 4));
        }

        @Test
        void delimiterStartingAfterMaxIsMalformed() {
            malformed(() -> msg("abcde\r\n").until(b("\r\n"), 4));
        }

        @Test
        void notFoundWithMaxPlusDelimiterBytesIsMalformed() {
            // max 4 + 2-byte delimiter = 6 bytes seen without a match.
            malformed(() -> msg("abcdef").skipUntil(b("\r\n"), 4));
        }

        @Test
        void notFoundWithFewerBytesIsIncomplete() {
            incomplete(() -> msg("abcde").skipUntil(b("\r\n"), 4));
            // The delimiter's first byte is there, its second may still come.
            incomplete(() -> msg("abcd\r").skipUntil(b("\r\n"), 4));
            incomplete(() -> msg("").until(b("\r\n"), 4));
        }

        @Test
        void searchStartsAtTheCursor() {
            Message m = msg("\r\nab\r\n");
            m.skip(1);
            m.skipUntil(b("\r\n"), 8);
            assertEquals(6, m.cursor());
        }
    }

    @Nested
    class Decimal {
        @Test
        void readsDigitsUpToANonDigitWithoutConsumingIt() {
            Message m = msg("123\r\n");
            assertEquals(123, m.decimal(3));
            assertEquals(3, m.cursor());
            assertEquals(3, m.furthest());
        }

        @Test
        void zeroDigitsIsMalformed() {
            malformed(() -> msg("x1").decimal(3));
        }

        @Test
        void aDigitAfterMaxDigitsIsMalformed() {
            malformed(() -> msg("1234").decimal(3));
            malformed(() -> msg("1234\r\n").decimal(3));
        }

        @Test
        void dataEndingInsideTheDigitsIsIncomplete() {
            incomplete(() -> msg("").decimal(3));
            incomplete(() -> msg("1").decimal(3));
            // Exactly maxDigits digits and nothing after: the next byte decides.
            incomplete(() -> msg("123").decimal(3));
        }

        @Test
        void fewerDigitsThanMax() {
            assertEquals(7, msg("7$").decimal(3));
        }

        @Test
        void valueIsUnsignedAndWraps() {
            assertEquals(Long.parseUnsignedLong("18446744073709551615"),
                    msg("18446744073709551615 ").decimal(20));
            assertEquals(0L, msg("18446744073709551616 ").decimal(20));
        }
    }

    @Nested
    class VarBytes {
        @Test
        void readsLengthBytes() {
            Message m = msg("foobar");
            assertArrayEquals(b("foo"), m.bytes(3L, 32));
            assertEquals(3, m.cursor());
        }

        @Test
        void lengthOverMaxIsMalformed() {
            malformed(() -> msg("foobar").bytes(33L, 32));
            malformed(() -> msg("foobar").bytes(-1L, 32));
        }

        @Test
        void fewerBytesThanLengthIsIncomplete() {
            incomplete(() -> msg("fo").bytes(3L, 32));
        }

        @Test
        void zeroLengthIsEmpty() {
            assertArrayEquals(new byte[0], msg("").bytes(0L, 32));
        }
    }

    @Nested
    class FixedFields {
        final byte[] data = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, (byte) 0xFF};

        @Test
        void integersAtTheCursorInBothOrders() {
            Message m = Message.of(data);
            assertEquals(0x01, m.u8());
            assertEquals(0x0203, m.u16be());
            assertEquals(0x0504, m.u16le());
            assertEquals(3 + 2, m.cursor());
            assertEquals(0x06, m.u8());
        }

        @Test
        void integersAreZeroExtended() {
            Message m = Message.of(new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF});
            assertEquals(0xFFFF_FFFFL, m.u32be());
        }

        @Test
        void wideIntegers() {
            assertEquals(0x0102030405060708L, Message.of(data).u64be());
            assertEquals(0x0807060504030201L, Message.of(data).u64le());
            assertEquals(0x01020304L, Message.of(data).u32be());
            assertEquals(0x04030201L, Message.of(data).u32le());
        }

        @Test
        void fixedOffsetReadsDoNotMoveTheCursorButExtendFurthest() {
            Message m = Message.of(data);
            assertEquals(0xFF, m.u8At(8));
            assertEquals(0x0304, m.u16beAt(2));
            assertEquals(0, m.cursor());
            assertEquals(9, m.furthest());
            assertArrayEquals(new byte[] {0x02, 0x03}, m.bytesAt(1, 2));
            assertEquals(9, m.furthest());
        }

        @Test
        void notEnoughBytesIsIncomplete() {
            incomplete(() -> Message.of(data).u64beAt(2));
            incomplete(() -> Message.of(new byte[3]).u32be());
            incomplete(() -> Message.of(data).bytes(10));
            incomplete(() -> Message.of(data).bytesAt(8, 2));
        }

        @Test
        void genericWidths() {
            assertEquals(0x010203, Message.of(data).uint(3, ByteOrder.BIG_ENDIAN));
            assertEquals(0x030201, Message.of(data).uint(3, ByteOrder.LITTLE_ENDIAN));
            assertEquals(0x0504, Message.of(data).uintAt(3, 2, ByteOrder.LITTLE_ENDIAN));
        }
    }

    @Nested
    class RequireAndFrame {
        @Test
        void requireFalseIsMalformed() {
            msg("x").require(true);
            malformed(() -> msg("x").require(false));
        }

        @Test
        void frameSetsTheMessageLength() {
            Message m = msg("\u0005abcdXYZ");
            long length = m.u8();
            m.frame(length, 64);
            m.endDecode();
            assertEquals(5, m.length());
        }

        @Test
        void frameOverMaxIsMalformed() {
            malformed(() -> msg("abc").frame(65, 64));
            malformed(() -> msg("abc").frame(-1L, 64));
        }

        @Test
        void frameShorterThanWhatWasReadIsMalformed() {
            Message m = msg("abcdef");
            m.u32beAt(2);
            malformed(() -> m.frame(5, 64));
            m.frame(6, 64);
        }

        @Test
        void frameLongerThanReceivedIsIncomplete() {
            Message m = msg("abc");
            m.u8();
            incomplete(() -> m.frame(4, 64));
        }

        @Test
        void frameCountsBytesFromTheMessageStartNotTheCursor() {
            Message m = new Message(b("..abcd"), 2, 6);
            m.skip(2);
            m.frame(4, 64);
            m.endDecode();
            assertEquals(4, m.length());
        }
    }

    @Nested
    class Extent {
        @Test
        void withoutDecodeTheMessageIsTheRestOfTheSegment() {
            assertEquals(4, new Message(b("xxabcd"), 2, 6).length());
        }

        @Test
        void afterDecodeTheMessageEndsAtTheFurthestByteRead() {
            Message m = msg("abcdefgh");
            m.skip(2);
            m.u8At(5);
            m.endDecode();
            assertEquals(6, m.length());
        }

        @Test
        void afterDecodeTheCursorCountsToo() {
            Message m = msg("abcdefgh");
            m.u8At(1);
            m.skip(3);
            m.endDecode();
            assertEquals(3, m.length());
        }

        @Test
        void malformedTakesTheRestOfTheSegment() {
            Message m = new Message(b("xxabcd"), 2, 6);
            m.skip(1);
            assertEquals(Verdict.DROP, m.malformed(Verdict.DROP));
            assertTrue(m.isMalformed());
            assertEquals(4, m.length());
        }

        @Test
        void readsAreRelativeToTheMessageStartAndStopAtTheSegmentEnd() {
            Message m = new Message(b("ab\u0007cd"), 2, 4);
            assertEquals(7, m.u8At(0));
            incomplete(() -> m.u8At(2));
            assertFalse(m.isMalformed());
        }
    }

    @Nested
    class Peek {
        @Test
        void peekDoesNotExtendTheMessage() {
            Message m = msg("\u0000\u0001abc");
            assertEquals(1, m.peekUint(0, 2, ByteOrder.BIG_ENDIAN));
            assertEquals(256, m.peekUint(0, 2, ByteOrder.LITTLE_ENDIAN));
            assertArrayEquals(b("ab"), m.peekBytes(2, 2));
            assertEquals(0, m.furthest());
        }

        @Test
        void peekBeyondTheSegmentIsIncomplete() {
            incomplete(() -> msg("abc").peekUint(2, 2, ByteOrder.BIG_ENDIAN));
            incomplete(() -> msg("abc").peekBytes(0, 4));
        }
    }

    @Test
    void returnedBytesAreCopies() {
        byte[] data = b("abcd");
        byte[] value = Message.of(data).bytes(2);
        data[0] = 'z';
        assertArrayEquals(b("ab"), value);
    }

    @Test
    void failuresAreStackless() {
        assertEquals(0, Incomplete.INSTANCE.getStackTrace().length);
        assertEquals(0, Malformed.INSTANCE.getStackTrace().length);
    }

    @Test
    void aMessageThatDecodesToNothingIsMalformed() {
        Message msg = Message.of(Bytes.ascii("abc"));
        msg.skip(0L, 4);
        assertThrows(Malformed.class, msg::endDecode);
    }
}
