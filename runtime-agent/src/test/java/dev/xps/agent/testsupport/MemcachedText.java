package dev.xps.agent.testsupport;

import static java.nio.charset.StandardCharsets.US_ASCII;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;

/**
 * memcached's text protocol over TCP, to the memcached of a {@link VethNetns} on port 11211: the XDP handlers under
 * test answer UDP only, so TCP reaches memcached itself — for seeding keys and reading its counters.
 */
public final class MemcachedText {
    private MemcachedText() {}

    /** One counter from memcached's {@code stats}; -1 while memcached is unreachable. */
    public static long stats(VethNetns net, String counter) {
        try {
            String all = request(net, "stats\r\n", "END\r\n");
            for (String line : all.split("\r\n")) {
                String[] f = line.split(" ");
                if (f.length == 3 && f[1].equals(counter)) {
                    return Long.parseLong(f[2]);
                }
            }
            return -1;
        } catch (IOException e) {
            return -1;
        }
    }

    /** Sends {@code request} and reads until the answer ends with {@code terminator} (or the connection closes). */
    public static String request(VethNetns net, String request, String terminator) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(net.nsAddress(), 11211), 1000);
            s.setSoTimeout(5000);
            s.getOutputStream().write(request.getBytes(US_ASCII));
            InputStream in = s.getInputStream();
            StringBuilder out = new StringBuilder();
            while (!out.toString().endsWith(terminator)) {
                int c = in.read();
                if (c < 0) {
                    break;
                }
                out.append((char) c);
            }
            return out.toString();
        }
    }
}
