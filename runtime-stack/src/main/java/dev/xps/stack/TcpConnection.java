package dev.xps.stack;

import dev.xps.runtime.EntryPoint;
import dev.xps.runtime.Protocol;
import dev.xps.runtime.SegmentResult;
import dev.xps.runtime.Verdict;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * One accepted TCP connection: runs the fast path on every read (a segment) on the I/O thread and
 * keeps the connection's responses in order.
 *
 * <p><b>Ordered output.</b> The connection keeps a queue of slots. A passed segment appends an
 * empty slot and goes to the service; the service's reply fills that slot. A fast-path TX
 * appends a slot that is already filled. The queue is written from its head only while the head
 * is filled, so a fast-path answer never overtakes the answer to a request the service is still
 * working on, and service replies that complete out of order are still written in order. All
 * queue state is touched on the connection's event loop only.
 *
 * <p><b>Resynchronisation.</b> After a segment passed because its last message was incomplete
 * (or because it held more than 32 messages), the next bytes may begin mid-message. The
 * connection then passes every segment without running the handlers ({@code resyncing}) until
 * the reply to the most recently passed segment says the service's parser is at a message
 * boundary ({@link ServiceReply#atBoundary()}). A reply to the latest passed segment that says it
 * is not at a boundary starts resynchronising as well.
 *
 * <p><b>Reset.</b> SO_LINGER 0 and close: the kernel sends an RST. Queued output is discarded.
 */
final class TcpConnection extends ChannelInboundHandlerAdapter {
    /** Passed segments awaiting a reply before the connection stops reading (backpressure). */
    static final int MAX_PENDING_PASSES = 1024;

    private final XpsStack stack;
    private final Route route;
    private final int logicalPort;
    private final ArrayDeque<Slot> queue = new ArrayDeque<>();
    private ConnectionInfo info;
    private SerialExecutor serial;
    /** Touched only on {@link #serial}. */
    private Service.Session session;
    private boolean resyncing;
    private Slot lastPassed;
    private int pendingPasses;
    private boolean closed;
    private boolean inputShutdown;

    private static final class Slot {
        byte[] bytes;
        boolean filled;
        boolean close;
    }

    TcpConnection(XpsStack stack, Route route, int logicalPort) {
        this.stack = stack;
        this.route = route;
        this.logicalPort = logicalPort;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        InetSocketAddress local = (InetSocketAddress) ctx.channel().localAddress();
        info = new ConnectionInfo(Protocol.TCP, (InetSocketAddress) ctx.channel().remoteAddress(), local,
                logicalPort < 0 ? local.getPort() : logicalPort);
        serial = new SerialExecutor(stack.serviceExecutor());
        serial.execute(() -> session = stack.service().open(info));
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        byte[] segment;
        try {
            segment = ByteBufUtil.getBytes((ByteBuf) msg);
        } finally {
            ReferenceCountUtil.release(msg);
        }
        if (closed || segment.length == 0) {
            return;
        }
        segment(ctx, segment);
    }

    private void segment(ChannelHandlerContext ctx, byte[] segment) {
        SegmentObserver observer = stack.observer();
        if (resyncing) {
            notify(observer, segment, Verdict.PASS, SegmentObserver.Reason.RESYNC, null);
            pass(ctx, segment);
            return;
        }
        Optional<EntryPoint> entry = route.find(stack.program(), info);
        if (entry.isEmpty()) {
            notify(observer, segment, Verdict.PASS, SegmentObserver.Reason.NO_ENTRY, null);
            pass(ctx, segment);
            return;
        }
        SegmentResult result;
        try {
            result = stack.processor().process(entry.get(), segment);
        } catch (RuntimeException e) {
            // A bug in generated code must not cost the request: fail open, the service answers it.
            XpsStack.LOG.log(System.Logger.Level.WARNING, "handler '" + entry.get().name() + "' threw; passing the segment", e);
            notify(observer, segment, Verdict.PASS, SegmentObserver.Reason.HANDLED, null);
            pass(ctx, segment);
            return;
        }
        notify(observer, segment, result.verdict(), SegmentObserver.Reason.HANDLED, result);
        switch (result.verdict()) {
            case TX -> {
                Slot slot = new Slot();
                slot.bytes = result.response();
                slot.filled = true;
                queue.add(slot);
                flush(ctx);
            }
            case DROP -> { }
            case RESET -> reset(ctx);
            case PASS -> {
                if (result.ending() == SegmentResult.Ending.INCOMPLETE
                        || result.ending() == SegmentResult.Ending.TOO_MANY_MESSAGES) {
                    resyncing = true;
                }
                pass(ctx, segment);
            }
        }
    }

    private void notify(SegmentObserver observer, byte[] segment, Verdict verdict, SegmentObserver.Reason reason,
                        SegmentResult result) {
        if (observer != null) {
            observer.segment(info, segment, new SegmentObserver.Outcome(verdict, reason, Optional.ofNullable(result)));
        }
    }

    private void pass(ChannelHandlerContext ctx, byte[] segment) {
        Slot slot = new Slot();
        queue.add(slot);
        lastPassed = slot;
        ++pendingPasses;
        updateAutoRead(ctx);
        serial.execute(() -> {
            CompletionStage<ServiceReply> reply;
            try {
                reply = session.received(segment);
            } catch (RuntimeException e) {
                reply = CompletableFuture.failedFuture(e);
            }
            reply.whenComplete((r, e) -> ctx.executor().execute(() -> fill(ctx, slot, r, e)));
        });
    }

    private void fill(ChannelHandlerContext ctx, Slot slot, ServiceReply reply, Throwable error) {
        if (closed) {
            return;
        }
        pendingPasses--;
        if (error != null || reply == null) {
            XpsStack.LOG.log(System.Logger.Level.WARNING, "service failed on " + info.remote() + "; closing", error);
            closed = true;
            queue.clear();
            ctx.close();
            return;
        }
        slot.bytes = reply.bytes();
        slot.close = reply.close();
        slot.filled = true;
        if (slot == lastPassed) {
            resyncing = !reply.atBoundary();
        }
        flush(ctx);
        updateAutoRead(ctx);
    }

    /**
     * Backpressure: stop reading while {@value #MAX_PENDING_PASSES} passed segments await the
     * service, or while the client does not read its answers (the channel is not writable).
     */
    private void updateAutoRead(ChannelHandlerContext ctx) {
        if (closed) {
            return;
        }
        boolean read = ctx.channel().isWritable() && pendingPasses < MAX_PENDING_PASSES;
        if (ctx.channel().config().isAutoRead() != read) {
            ctx.channel().config().setAutoRead(read);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        updateAutoRead(ctx);
        ctx.fireChannelWritabilityChanged();
    }

    /** Writes the filled slots at the head of the queue. */
    private void flush(ChannelHandlerContext ctx) {
        boolean wrote = false;
        while (!queue.isEmpty() && queue.peek().filled) {
            Slot slot = queue.poll();
            if (slot.bytes.length > 0) {
                ctx.write(Unpooled.wrappedBuffer(slot.bytes));
                wrote = true;
            }
            if (slot.close) {
                closed = true;
                queue.clear();
                ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
                return;
            }
        }
        if (wrote) {
            ctx.flush();
        }
        if (inputShutdown && queue.isEmpty() && !closed) {
            closed = true;
            ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
    }

    private void reset(ChannelHandlerContext ctx) {
        closed = true;
        queue.clear();
        ctx.channel().config().setOption(ChannelOption.SO_LINGER, 0);
        ctx.close();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
        if (event instanceof ChannelInputShutdownEvent) {
            // The client finished sending: answer what is queued, then close.
            inputShutdown = true;
            flush(ctx);
            return;
        }
        ctx.fireUserEventTriggered(event);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closed = true;
        queue.clear();
        if (serial != null) {
            serial.execute(() -> {
                if (session != null) {
                    session.closed();
                }
            });
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        XpsStack.LOG.log(System.Logger.Level.DEBUG, "connection " + (info == null ? "?" : info.remote()) + ": " + cause);
        closed = true;
        ctx.close();
    }
}
