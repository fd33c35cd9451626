package dev.xps.consensus;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class OrderPredicateTest {
    @Test
    void orderAllMatchesEverything() {
        assertTrue(OrderPredicate.all().matches(new byte[0]));
        assertTrue(OrderPredicate.all().matches(new byte[] {9, 9}));
    }

    @Test
    void u8AtMatchesTheListedValuesOnly() {
        OrderPredicate p = OrderPredicate.u8At(0, 1, 3); // samples/kv-replicated.xps
        assertTrue(p.matches(new byte[] {1, 0, 0, 0, 1}));
        assertTrue(p.matches(new byte[] {3}));
        assertFalse(p.matches(new byte[] {2, 0, 0, 0, 1}), "GET is not ordered");
        assertFalse(p.matches(new byte[0]), "too short to hold the byte");
        OrderPredicate at2 = OrderPredicate.u8At(2, 0xff);
        assertTrue(at2.matches(new byte[] {0, 0, (byte) 0xff}));
        assertFalse(at2.matches(new byte[] {(byte) 0xff, (byte) 0xff}));
        assertFalse(at2.matches(new byte[] {0, 0, (byte) 0xff}, 2), "only the first length bytes count");
        assertThrows(IllegalArgumentException.class, () -> OrderPredicate.u8At(0, 256));
        assertThrows(IllegalArgumentException.class, () -> OrderPredicate.u8At(-1, 1));
    }
}
