package dev.xps.agent.testsupport;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** A minimal Redis (RESP2) client over one TCP connection: sends commands as arrays, reads replies as text. */
public final class Resp implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;

    public Resp(int port) throws IOException {
        this("127.0.0.1", port);
    }

    /** A connection to {@code host} (an address literal: {@code 127.0.0.1}, {@code ::1}). */
    public Resp(String host, int port) throws IOException {
        socket = new Socket();
        socket.connect(new InetSocketAddress(host, port), 5000);
        socket.setSoTimeout(5000);
        socket.setTcpNoDelay(true);
        in = socket.getInputStream();
    }

    public static byte[] command(String... args) {
        StringBuilder b = new StringBuilder("*").append(args.length).append("\r\n");
        for (String a : args) {
            b.append('$').append(a.getBytes(StandardCharsets.UTF_8).length).append("\r\n").append(a).append("\r\n");
        }
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Writes raw bytes in one write (e.g. several commands: a pipeline). */
    public void write(byte[] bytes) throws IOException {
        socket.getOutputStream().write(bytes);
        socket.getOutputStream().flush();
    }

    /** Sends one command and reads its reply. */
    public String call(String... args) throws IOException {
        write(command(args));
        return reply();
    }

    /**
     * Reads one reply: {@code +OK}, {@code -ERR ...}, {@code :1}, {@code $<bytes>} as the bytes' text with a
     * {@code $} prefix, {@code $-1} for nil.
     */
    public String reply() throws IOException {
        String line = line();
        if (line.startsWith("$")) {
            int n = Integer.parseInt(line.substring(1));
            if (n < 0) {
                return "$-1";
            }
            byte[] data = in.readNBytes(n + 2);
            return "$" + new String(data, 0, n, StandardCharsets.UTF_8);
        }
        return line;
    }

    private String line() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int prev = -1;
        while (true) {
            int c = in.read();
            if (c < 0) {
                throw new IOException("connection closed (read so far: " + b + ")");
            }
            if (prev == '\r' && c == '\n') {
                byte[] a = b.toByteArray();
                return new String(a, 0, a.length - 1, StandardCharsets.UTF_8);
            }
            b.write(c);
            prev = c;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
