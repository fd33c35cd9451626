package dev.xps.it;

import dev.xps.backend.java.stack.StackProbe.Observed;
import dev.xps.compiler.ir.IrEntryPoint;
import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.ir.Protocol;
import dev.xps.runtime.MapStore;
import dev.xps.runtime.XpsProgram;
import dev.xps.stack.ConnectionInfo;
import dev.xps.stack.SegmentObserver;
import dev.xps.stack.Service;
import dev.xps.stack.ServiceReply;
import dev.xps.stack.XpsStack;
import io.netty.channel.EventLoopGroup;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.channels.SocketChannel;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.function.Function;

/**
 * The java-stack's TCP entry points (Netty on loopback), observed exactly like the kernel's
 * ({@link SentinelProtocol}): the stack's {@link SegmentObserver} says when it has taken the payload's segment,
 * the recording service acknowledges the sentinel, and the stack writes a connection's answers and the
 * service's replies in the order of the segments. No quiet-time waits.
 */
final class StackTcpTarget implements AutoCloseable {
    private final XpsStack stack;
    private final Map<String, InetSocketAddress> listeners = new ConcurrentHashMap<>();
    private final Map<String, SentinelProtocol> protocols = new ConcurrentHashMap<>();
    private final Map<Integer, SentinelProtocol> byLocalPort = new ConcurrentHashMap<>();
    private final Map<Integer, Taken> taken = new ConcurrentHashMap<>();

    /** What the stack has taken of one client connection (keyed by the client's port). */
    private static final class Taken {
        int bytes;
        int reads;
    }

    StackTcpTarget(IrModule module, MapStore maps, Function<MapStore, XpsProgram> program, EventLoopGroup group,
                   ExecutorService serviceExecutor, Random random) throws InterruptedException {
        Service recording = new Service() {
            @Override
            public Session open(ConnectionInfo c) {
                SentinelProtocol.Connection connection = byLocalPort.get(c.local().getPort())
                        .connection(c.remote().getPort());
                return new Session() {
                    @Override
                    public CompletionStage<ServiceReply> received(byte[] bytes) {
                        byte[] ack = connection.received(bytes, 0, bytes.length);
                        return CompletableFuture.completedFuture(ack == null ? ServiceReply.nothing(true)
                                : ServiceReply.of(ack));
                    }

                    @Override
                    public void closed() {
                        connection.ended("the connection closed before the sentinel reached the service");
                    }
                };
            }
        };
        SegmentObserver observer = (connection, segment, outcome) -> {
            Taken t = taken.computeIfAbsent(connection.remote().getPort(), p -> new Taken());
            synchronized (t) {
                t.bytes += segment.length;
                t.reads++;
                t.notifyAll();
            }
        };
        this.stack = XpsStack.builder(maps, program).service(recording).observer(observer).eventLoopGroup(group)
                .serviceExecutor(serviceExecutor).build();
        for (IrEntryPoint e : module.entryPoints()) {
            if (e.predicate().protocol() == Protocol.TCP) {
                SentinelProtocol protocol = new SentinelProtocol(e, random);
                InetSocketAddress at = stack.listenTcp(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                        e.name());
                protocols.put(e.name(), protocol);
                listeners.put(e.name(), at);
                byLocalPort.put(at.getPort(), protocol);
            }
        }
    }

    /** Sends {@code payload} as one segment to TCP entry {@code entry} on a fresh connection. */
    Observed send(String entry, byte[] payload) throws Exception {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.INET)) {
            ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
            ch.connect(listeners.get(entry));
            int port = ((InetSocketAddress) ch.getLocalAddress()).getPort();
            try {
                return protocols.get(entry).exchange(ch, payload, () -> awaitTaken(port, payload.length));
            } finally {
                taken.remove(port);
            }
        }
    }

    /** Waits until the stack has processed {@code length} bytes of the connection; null, or what happened instead. */
    private String awaitTaken(int port, int length) throws InterruptedException {
        Taken t = taken.computeIfAbsent(port, p -> new Taken());
        long deadline = System.nanoTime() + SentinelProtocol.WAIT_MS * 1_000_000L;
        synchronized (t) {
            while (t.bytes < length) {
                long left = (deadline - System.nanoTime()) / 1_000_000L;
                if (left <= 0) {
                    return "the stack did not process the segment within " + SentinelProtocol.WAIT_MS + " ms";
                }
                t.wait(left);
            }
            return t.reads == 1 ? null : "the stack received the send as " + t.reads + " reads";
        }
    }

    @Override
    public void close() {
        stack.close();
    }
}
