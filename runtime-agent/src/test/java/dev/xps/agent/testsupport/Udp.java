package dev.xps.agent.testsupport;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Sends UDP datagrams (to the discard port) until a condition holds, bounded in count and time. */
public final class Udp {
    private Udp() {}

    /**
     * Sends one datagram every 20 ms to {@code to} until {@code done} holds (true) or {@code timeout} passes
     * (false). The first ones may wait for ARP; that is why it repeats.
     */
    public static boolean sendUntil(InetAddress to, Duration timeout, BooleanSupplier done) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        byte[] payload = "xpsagent test datagram".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        try (DatagramSocket socket = new DatagramSocket()) {
            while (System.nanoTime() < deadline) {
                socket.send(new DatagramPacket(payload, payload.length, to, 9));
                if (done.getAsBoolean()) {
                    return true;
                }
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
        }
        return done.getAsBoolean();
    }

    /** Sends {@code n} datagrams, 5 ms apart. */
    public static void send(InetAddress to, int n) throws IOException {
        byte[] payload = "xpsagent test datagram".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        try (DatagramSocket socket = new DatagramSocket()) {
            for (int i = 0; i < n; i++) {
                socket.send(new DatagramPacket(payload, payload.length, to, 9));
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }
}
