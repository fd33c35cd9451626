package dev.xps.stack;

import dev.xps.runtime.MapStore;
import dev.xps.runtime.SegmentProcessor;
import dev.xps.runtime.XpsMap;
import dev.xps.runtime.XpsProgram;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * The user-space stack: hosts a generated {@link XpsProgram} on Netty (the native epoll transport
 * when available, NIO otherwise) with the verdict semantics of the kernel target.
 *
 * <ul>
 *   <li>Each read of a TCP connection is a segment, each datagram a UDP segment; the I/O thread
 *       runs it through a {@link SegmentProcessor} (the reference rules of docs/language.md).
 *   <li>TX writes the response on the I/O thread, after every earlier answer of the connection
 *       (see {@link TcpConnection}: ordered output queue); DROP discards; RESET closes with an
 *       RST (SO_LINGER 0); PASS hands exactly the received bytes to the {@link Service} on the
 *       service executor, never on an I/O thread.
 *   <li>After an incomplete message a connection passes its segments until the service says it is
 *       at a message boundary again (resynchronisation, {@link ServiceReply#atBoundary()}).
 *   <li>The maps live in one {@link MapStore} shared with the service (no copies): the service
 *       reads and writes them directly or through {@link #put}, {@link #update}, {@link #delete},
 *       {@link #stats}. Write handlers update them on the I/O thread before the write is passed.
 *   <li>{@link #swap} replaces the program between two segments while connections stay open; the
 *       new program opens its maps in the same store, so maps are carried over by name.
 * </ul>
 */
public final class XpsStack implements AutoCloseable {
    static final System.Logger LOG = System.getLogger("dev.xps.stack");

    /** Largest read: one read is one segment, and a message can be up to 65,535 bytes. */
    public static final int READ_BUFFER = 65_536;

    /** Which Netty transport to use. */
    public enum Transport {
        /** epoll when the native library loads, NIO otherwise. */
        AUTO,
        EPOLL,
        NIO
    }

    private final MapStore maps;
    private final AtomicReference<XpsProgram> program = new AtomicReference<>();
    private final SegmentProcessor processor = new SegmentProcessor();
    private final Service service;
    private final ExecutorService serviceExecutor;
    private final boolean ownsServiceExecutor;
    private final EventLoopGroup group;
    private final boolean ownsGroup;
    private final boolean epoll;
    private final SegmentObserver observer;
    private final List<Channel> listeners = new ArrayList<>();
    /** Accepted connections, closed with the stack (also when the event-loop group is shared). */
    private final ChannelGroup connections = new DefaultChannelGroup("xps-connections", GlobalEventExecutor.INSTANCE);

    private XpsStack(Builder b) {
        this.maps = b.maps;
        this.program.set(Objects.requireNonNull(b.program.apply(maps), "program"));
        this.service = b.service;
        this.observer = b.observer;
        this.epoll = switch (b.transport) {
            case AUTO -> Epoll.isAvailable();
            case EPOLL -> {
                Epoll.ensureAvailability();
                yield true;
            }
            case NIO -> false;
        };
        if (b.group != null) {
            this.group = b.group;
            this.ownsGroup = false;
        } else {
            this.group = newEventLoopGroup(b.ioThreads, epoll);
            this.ownsGroup = true;
        }
        if (b.serviceExecutor != null) {
            this.serviceExecutor = b.serviceExecutor;
            this.ownsServiceExecutor = false;
        } else {
            this.serviceExecutor = Executors.newFixedThreadPool(b.serviceThreads, daemon("xps-service"));
            this.ownsServiceExecutor = true;
        }
    }

    /** An event-loop group of the given transport, for several stacks to share (tests). */
    public static EventLoopGroup newEventLoopGroup(int threads, boolean epoll) {
        IoHandlerFactory factory = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        return new MultiThreadIoEventLoopGroup(threads, daemon("xps-io"), factory);
    }

    /** Whether this stack runs on the native epoll transport. */
    public boolean isEpoll() {
        return epoll;
    }

    private static ThreadFactory daemon(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    public static Builder builder(MapStore maps, Function<MapStore, XpsProgram> program) {
        return new Builder(maps, program);
    }

    public static final class Builder {
        private final MapStore maps;
        private final Function<MapStore, XpsProgram> program;
        private Service service = new Service() {};
        private ExecutorService serviceExecutor;
        private int serviceThreads = Math.max(2, Runtime.getRuntime().availableProcessors());
        private int ioThreads = Math.max(1, Runtime.getRuntime().availableProcessors());
        private EventLoopGroup group;
        private Transport transport = Transport.AUTO;
        private SegmentObserver observer;

        private Builder(MapStore maps, Function<MapStore, XpsProgram> program) {
            this.maps = Objects.requireNonNull(maps);
            this.program = Objects.requireNonNull(program);
        }

        public Builder service(Service service) {
            this.service = Objects.requireNonNull(service);
            return this;
        }

        /** Where service calls run; not shut down by the stack. Default: a fixed pool the stack owns. */
        public Builder serviceExecutor(ExecutorService executor) {
            this.serviceExecutor = executor;
            return this;
        }

        public Builder serviceThreads(int threads) {
            this.serviceThreads = threads;
            return this;
        }

        public Builder ioThreads(int threads) {
            this.ioThreads = threads;
            return this;
        }

        /** Run on an existing group (its transport must match {@link #transport}); not shut down by the stack. */
        public Builder eventLoopGroup(EventLoopGroup group) {
            this.group = group;
            return this;
        }

        public Builder transport(Transport transport) {
            this.transport = transport;
            return this;
        }

        public Builder observer(SegmentObserver observer) {
            this.observer = observer;
            return this;
        }

        public XpsStack build() {
            return new XpsStack(this);
        }
    }

    // ------------------------------------------------------------------ listeners

    /** Listens for TCP on {@code bind}; predicates see the bound port. */
    public InetSocketAddress listenTcp(InetSocketAddress bind) throws InterruptedException {
        return listenTcp(bind, new Route.ByPredicate(), -1);
    }

    /** Listens for TCP on {@code bind}; predicates see {@code logicalPort} as the server's port. */
    public InetSocketAddress listenTcp(InetSocketAddress bind, int logicalPort) throws InterruptedException {
        return listenTcp(bind, new Route.ByPredicate(), logicalPort);
    }

    /** Listens for TCP on {@code bind} and runs every segment through the entry point named {@code entry}. */
    public InetSocketAddress listenTcp(InetSocketAddress bind, String entry) throws InterruptedException {
        return listenTcp(bind, new Route.Pinned(entry), -1);
    }

    public InetSocketAddress listenUdp(InetSocketAddress bind) throws InterruptedException {
        return listenUdp(bind, new Route.ByPredicate(), -1);
    }

    public InetSocketAddress listenUdp(InetSocketAddress bind, int logicalPort) throws InterruptedException {
        return listenUdp(bind, new Route.ByPredicate(), logicalPort);
    }

    public InetSocketAddress listenUdp(InetSocketAddress bind, String entry) throws InterruptedException {
        return listenUdp(bind, new Route.Pinned(entry), -1);
    }

    private InetSocketAddress listenTcp(InetSocketAddress bind, Route route, int logicalPort)
            throws InterruptedException {
        Class<? extends ServerChannel> type = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        ServerBootstrap b = new ServerBootstrap()
                .group(group)
                .channel(type)
                .option(ChannelOption.SO_REUSEADDR, true)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(READ_BUFFER))
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        connections.add(ch);
                        ch.pipeline().addLast(new TcpConnection(XpsStack.this, route, logicalPort));
                    }
                });
        Channel ch = b.bind(bind).sync().channel();
        synchronized (listeners) {
            listeners.add(ch);
        }
        return (InetSocketAddress) ch.localAddress();
    }

    private InetSocketAddress listenUdp(InetSocketAddress bind, Route route, int logicalPort)
            throws InterruptedException {
        Class<? extends DatagramChannel> type = epoll ? EpollDatagramChannel.class : NioDatagramChannel.class;
        Bootstrap b = new Bootstrap()
                .group(group)
                .channel(type)
                .option(ChannelOption.SO_REUSEADDR, true)
                .option(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(READ_BUFFER))
                .handler(new UdpEndpoint(this, route, logicalPort));
        Channel ch = b.bind(bind).sync().channel();
        synchronized (listeners) {
            listeners.add(ch);
        }
        return (InetSocketAddress) ch.localAddress();
    }

    // ------------------------------------------------------------------ program

    /** The program segments run through now. */
    public XpsProgram program() {
        return program.get();
    }

    /**
     * Replaces the program between two segments: {@code next} is built over this stack's store, so
     * maps of the same name and declaration are carried over (a map whose declaration changed
     * makes the swap fail, and the running program stays). Open connections keep their state.
     */
    public XpsProgram swap(Function<MapStore, XpsProgram> next) {
        XpsProgram built = Objects.requireNonNull(next.apply(maps), "program");
        return program.getAndSet(built);
    }

    /** Loads a generated class by name ({@code xps.generated.RedisGet}) and builds it over {@code maps}. */
    public static Function<MapStore, XpsProgram> load(String className, ClassLoader loader)
            throws ReflectiveOperationException {
        var constructor = Class.forName(className, true, loader).asSubclass(XpsProgram.class)
                .getConstructor(MapStore.class);
        return store -> {
            try {
                return constructor.newInstance(store);
            } catch (java.lang.reflect.InvocationTargetException e) {
                throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
        };
    }

    public SegmentProcessor processor() {
        return processor;
    }

    // ------------------------------------------------------------------ maps (shared with the service)

    public MapStore maps() {
        return maps;
    }

    public XpsMap map(String name) {
        return maps.get(name);
    }

    /** Inserts or replaces; false when a new key does not fit. */
    public boolean put(String map, byte[] key, byte[] value) {
        return maps.get(map).put(key, value);
    }

    /** Replaces an existing entry only; false when the key is absent. */
    public boolean update(String map, byte[] key, byte[] value) {
        XpsMap m = maps.get(map);
        return m.get(key) != null && m.put(key, value);
    }

    public boolean delete(String map, byte[] key) {
        return maps.get(map).delete(key);
    }

    public List<XpsMap.Stat> stats(String map) {
        return maps.get(map).stats();
    }

    public long hits(String map, byte[] key) {
        return maps.get(map).hits(key);
    }

    // ------------------------------------------------------------------ internals and shutdown

    Service service() {
        return service;
    }

    ExecutorService serviceExecutor() {
        return serviceExecutor;
    }

    SegmentObserver observer() {
        return observer;
    }

    /** Closes the listeners and the open connections, then what the stack owns (event loops, service threads). */
    @Override
    public void close() {
        List<Channel> all;
        synchronized (listeners) {
            all = new ArrayList<>(listeners);
            listeners.clear();
        }
        for (Channel ch : all) {
            ch.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
        connections.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        if (ownsGroup) {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
        }
        if (ownsServiceExecutor) {
            serviceExecutor.shutdownNow();
        }
    }
}
