package dev.xps.backend.ebpf;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;

/**
 * Both ends of the TCP test connections, as a process of its own: {@link TcpHarness} starts it in
 * a fresh network namespace and in the test cgroup (a service must be in the cgroup before it
 * creates its listening socket, or sock_ops never sees its connections). It reads commands from
 * stdin, one per line, and answers each with one line:
 *
 * <pre>
 *   send CLIENT_IP CLIENT_PORT SERVER_IP SERVER_PORT HEX
 *     → result HEX_THE_SERVICE_RECEIVED HEX_THE_CLIENT_RECEIVED      ("-" for nothing)
 *   open CLIENT_IP CLIENT_PORT SERVER_IP SERVER_PORT   → ok      (one connection kept open)
 *   segment HEX     → result ...    the client writes HEX on the open connection
 *   reply HEX       → result ...    the service writes HEX on it
 *   close           → ok
 * </pre>
 *
 * Each send is a fresh connection: the client connects, the service accepts, the client writes
 * the payload in one write (TCP_NODELAY), then both sockets are read until nothing more arrives.
 * Only the JDK is used, so the class runs from this module's jar or classes directory alone.
 */
public final class TcpPeer {
    /** How long to wait for the first byte, and for more after the last one. */
    private static final long FIRST_MS = 600;
    private static final long QUIET_MS = 150;

    private final Map<String, ServerSocketChannel> listeners = new HashMap<>();
    private SocketChannel openClient;
    private SocketChannel openService;

    private TcpPeer() {}

    public static void main(String[] args) throws IOException {
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        TcpPeer peer = new TcpPeer();
        out.println("ready");
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            String[] f = line.trim().split(" ");
            try {
                if (f.length == 6 && f[0].equals("send")) {
                    out.println(peer.send(f[1], Integer.parseInt(f[2]), f[3], Integer.parseInt(f[4]),
                            HexFormat.of().parseHex(f[5].equals("-") ? "" : f[5])));
                } else if (f.length == 5 && f[0].equals("open")) {
                    peer.open(f[1], Integer.parseInt(f[2]), f[3], Integer.parseInt(f[4]));
                    out.println("ok");
                } else if (f.length == 2 && (f[0].equals("segment") || f[0].equals("reply"))) {
                    out.println(peer.write(f[0].equals("segment"), HexFormat.of().parseHex(f[1])));
                } else if (f.length == 1 && f[0].equals("close")) {
                    peer.closeOpen();
                    out.println("ok");
                } else if (f.length == 1 && f[0].equals("quit")) {
                    break;
                } else {
                    out.println("error unknown command: " + line);
                }
            } catch (IOException | RuntimeException e) {
                out.println("error " + e.toString().replace('\n', ' '));
            }
        }
    }

    private ServerSocketChannel listener(String ip, int port) throws IOException {
        String key = ip + ":" + port;
        ServerSocketChannel l = listeners.get(key);
        if (l == null) {
            l = ServerSocketChannel.open();
            l.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            l.bind(new InetSocketAddress(InetAddress.getByName(ip), port));
            listeners.put(key, l);
        }
        return l;
    }

    private String send(String clientIp, int clientPort, String serverIp, int serverPort, byte[] payload)
            throws IOException {
        ServerSocketChannel l = listener(serverIp, serverPort);
        try (SocketChannel client = SocketChannel.open()) {
            client.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            client.setOption(StandardSocketOptions.TCP_NODELAY, true);
            client.bind(new InetSocketAddress(InetAddress.getByName(clientIp), clientPort));
            client.connect(new InetSocketAddress(InetAddress.getByName(serverIp), serverPort));
            try (SocketChannel service = l.accept()) {
                ByteBuffer b = ByteBuffer.wrap(payload);
                while (b.hasRemaining()) {
                    client.write(b);
                }
                ByteArrayOutputStream toService = new ByteArrayOutputStream();
                ByteArrayOutputStream toClient = new ByteArrayOutputStream();
                collect(client, toClient, service, toService);
                return "result " + hex(toService.toByteArray()) + " " + hex(toClient.toByteArray());
            }
        }
    }

    private void open(String clientIp, int clientPort, String serverIp, int serverPort) throws IOException {
        closeOpen();
        ServerSocketChannel l = listener(serverIp, serverPort);
        SocketChannel client = SocketChannel.open();
        client.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        client.setOption(StandardSocketOptions.TCP_NODELAY, true);
        client.bind(new InetSocketAddress(InetAddress.getByName(clientIp), clientPort));
        client.connect(new InetSocketAddress(InetAddress.getByName(serverIp), serverPort));
        openClient = client;
        openService = l.accept();
        openService.setOption(StandardSocketOptions.TCP_NODELAY, true);
    }

    private String write(boolean fromClient, byte[] bytes) throws IOException {
        if (openClient == null) {
            return "error no open connection";
        }
        openClient.configureBlocking(true);
        openService.configureBlocking(true);
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
            (fromClient ? openClient : openService).write(b);
        }
        ByteArrayOutputStream toService = new ByteArrayOutputStream();
        ByteArrayOutputStream toClient = new ByteArrayOutputStream();
        collect(openClient, toClient, openService, toService);
        return "result " + hex(toService.toByteArray()) + " " + hex(toClient.toByteArray());
    }

    private void closeOpen() throws IOException {
        if (openClient != null) {
            openClient.close();
            openService.close();
            openClient = null;
            openService = null;
        }
    }

    /** Reads both sockets until nothing has arrived for a while. */
    private static void collect(SocketChannel client, ByteArrayOutputStream toClient, SocketChannel service,
                                ByteArrayOutputStream toService) throws IOException {
        client.configureBlocking(false);
        service.configureBlocking(false);
        try (Selector selector = Selector.open()) {
            // (registrations end when the selector closes, so the channels can go back to blocking)
            client.register(selector, SelectionKey.OP_READ, toClient);
            service.register(selector, SelectionKey.OP_READ, toService);
            ByteBuffer buf = ByteBuffer.allocate(65536);
            long deadline = System.currentTimeMillis() + FIRST_MS;
            while (true) {
                long wait = deadline - System.currentTimeMillis();
                if (wait <= 0 || selector.keys().isEmpty()) {
                    return;
                }
                selector.select(wait);
                for (SelectionKey k : selector.selectedKeys()) {
                    SocketChannel ch = (SocketChannel) k.channel();
                    buf.clear();
                    int n;
                    try {
                        n = ch.read(buf);
                    } catch (IOException reset) {
                        n = -1;
                    }
                    if (n < 0) {
                        k.cancel();
                    } else if (n > 0) {
                        ((ByteArrayOutputStream) k.attachment()).write(buf.array(), 0, n);
                        deadline = System.currentTimeMillis() + QUIET_MS;
                    }
                }
                selector.selectedKeys().clear();
            }
        } finally {
            for (SocketChannel ch : new SocketChannel[] {client, service}) {
                if (ch.isOpen()) {
                    while (ch.isRegistered()) {
                        Thread.onSpinWait();
                    }
                }
            }
        }
    }

    private static String hex(byte[] b) {
        return b.length == 0 ? "-" : HexFormat.of().formatHex(b);
    }
}
