package dev.xps.stack.sample;

import dev.xps.stack.ConnectionInfo;
import dev.xps.stack.Service;
import dev.xps.stack.ServiceReply;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * A minimal HTTP/1.1 server behind {@code samples/http-block.xps}: GET and HEAD of any path get a
 * small fixed page (keep-alive unless the client says {@code Connection: close} or speaks
 * HTTP/1.0); any other method gets 405 and the connection closes (the same answer the fast path
 * gives a POST). Request bodies (Content-Length) are read and ignored; chunked bodies are not
 * supported (400, close).
 */
public final class HttpService implements Service {
    static final byte[] PAGE = ("<!doctype html>\n<html><head><title>XPS</title></head>"
            + "<body><h1>Hello from the XPS user-space stack</h1></body></html>\n").getBytes(StandardCharsets.US_ASCII);
    private static final int MAX_HEAD = 16 * 1024;

    @Override
    public Session open(ConnectionInfo connection) {
        return new HttpSession();
    }

    private static final class HttpSession implements Session {
        private final StreamBuffer in = new StreamBuffer();

        @Override
        public CompletionStage<ServiceReply> received(byte[] bytes) {
            in.append(bytes);
            Resp.Out out = new Resp.Out();
            int at = 0;
            boolean close = false;
            while (!close) {
                byte[] b = in.array();
                int end = headEnd(b, at, in.length());
                if (end < 0) {
                    if (in.length() - at > MAX_HEAD) {
                        status(out, "431 Request Header Fields Too Large", false);
                        close = true;
                        at = in.length();
                    }
                    break;
                }
                String head = new String(b, at, end - at, StandardCharsets.ISO_8859_1);
                String[] lines = head.split("\r\n");
                String[] request = lines[0].split(" ");
                String method = request[0];
                boolean http10 = request.length > 2 && request[2].equals("HTTP/1.0");
                long body = 0;
                boolean chunked = false;
                boolean wantsClose = http10;
                for (int i = 1; i < lines.length; i++) {
                    int colon = lines[i].indexOf(':');
                    if (colon < 0) {
                        continue;
                    }
                    String name = lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT);
                    String value = lines[i].substring(colon + 1).trim();
                    switch (name) {
                        case "content-length" -> {
                            try {
                                body = Long.parseLong(value);
                            } catch (NumberFormatException e) {
                                body = -1;
                            }
                        }
                        case "transfer-encoding" -> chunked = !value.equalsIgnoreCase("identity");
                        case "connection" -> wantsClose = value.equalsIgnoreCase("close")
                                || (http10 && !value.equalsIgnoreCase("keep-alive"));
                        default -> { }
                    }
                }
                if (chunked || body < 0 || request.length < 3) {
                    status(out, "400 Bad Request", false);
                    close = true;
                    at = in.length();
                    break;
                }
                long total = (end + 4L - at) + body;
                if (in.length() - at < total) {
                    break; // the body has not all arrived
                }
                at += (int) total;
                if (method.equals("GET") || method.equals("HEAD")) {
                    out.ascii("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: " + PAGE.length + "\r\n"
                            + (wantsClose ? "Connection: close\r\n" : "") + "\r\n");
                    if (method.equals("GET")) {
                        out.bytes(PAGE);
                    }
                    close = wantsClose;
                } else {
                    out.ascii("HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD\r\nContent-Length: 0\r\n"
                            + "Connection: close\r\n\r\n");
                    close = true;
                }
            }
            in.consume(at);
            return CompletableFuture.completedFuture(new ServiceReply(out.toByteArray(), in.isEmpty(), close));
        }
    }

    private static void status(Resp.Out out, String status, boolean keepAlive) {
        out.ascii("HTTP/1.1 " + status + "\r\nContent-Length: 0\r\n" + (keepAlive ? "" : "Connection: close\r\n") + "\r\n");
    }

    /** Where the blank line ending the request head starts, or -1. */
    private static int headEnd(byte[] b, int from, int len) {
        for (int i = from; i + 3 < len; i++) {
            if (b[i] == '\r' && b[i + 1] == '\n' && b[i + 2] == '\r' && b[i + 3] == '\n') {
                return i;
            }
        }
        return -1;
    }
}
