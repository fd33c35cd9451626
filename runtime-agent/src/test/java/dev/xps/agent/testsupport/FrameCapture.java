package dev.xps.agent.testsupport;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The Ethernet frames an interface of the root namespace receives, byte for byte, from a python3 {@code AF_PACKET}
 * socket (Java has none): for checking what an XDP program sent on a veth pair where the receiving kernel does
 * not verify checksums (the sender's {@code CHECKSUM_PARTIAL} survives generic XDP's {@code XDP_TX}). Only
 * incoming frames ({@code PACKET_HOST}) of the given ethertype are kept. {@link #close()} kills the process.
 */
public final class FrameCapture implements AutoCloseable {
    private static final String SCRIPT = """
            import socket, sys
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
            s.bind((sys.argv[1], 0))
            ethertype = int(sys.argv[2], 16).to_bytes(2, 'big')
            print('ready', flush=True)
            while True:
                frame, addr = s.recvfrom(65535)
                if addr[2] == socket.PACKET_HOST and frame[12:14] == ethertype:
                    print(frame.hex(), flush=True)
            """;

    private final Process process;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

    /** Starts capturing on {@code iface} (root namespace); returns once the socket is bound. */
    public FrameCapture(String iface, int ethertype) throws IOException, InterruptedException {
        process = new ProcessBuilder("python3", "-c", SCRIPT, iface, Integer.toHexString(ethertype))
                .redirectErrorStream(true).start();
        Thread.ofPlatform().daemon().name("xpsagent-capture").start(() -> {
            try (BufferedReader r = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.US_ASCII))) {
                for (String line; (line = r.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (IOException e) {
                lines.add("error: " + e.getMessage());
            }
        });
        String first = lines.poll(15, TimeUnit.SECONDS);
        if (!"ready".equals(first)) {
            close();
            throw new IOException("the capture on " + iface + " did not start: " + first);
        }
    }

    /** The frames received so far, waiting up to {@code wait} for the first one. */
    public List<byte[]> frames(Duration wait) throws InterruptedException {
        List<byte[]> out = new ArrayList<>();
        String line = lines.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
        while (line != null) {
            if (line.startsWith("error") || line.startsWith("Traceback") || line.isBlank()) {
                throw new AssertionError("the capture failed: " + line);
            }
            try {
                out.add(HexFormat.of().parseHex(line));
            } catch (IllegalArgumentException e) {
                throw new AssertionError("the capture failed: " + line);
            }
            line = lines.poll();
        }
        return out;
    }

    @Override
    public void close() {
        process.destroyForcibly();
        try {
            process.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
