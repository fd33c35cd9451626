package dev.xps.stack;

import dev.xps.runtime.EntryPoint;
import dev.xps.runtime.Protocol;
import dev.xps.runtime.SegmentResult;
import dev.xps.runtime.Verdict;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * A bound UDP socket: each datagram is one segment of exactly one message. TX sends the response
 * to the sender from the I/O thread; DROP and RESET (no connection to reset) discard; PASS hands
 * the datagram to {@link Service#datagram} on the service executor and sends a non-empty reply
 * back. Datagrams are independent, so there is no ordering queue and no resynchronisation.
 */
final class UdpEndpoint extends SimpleChannelInboundHandler<DatagramPacket> {
    private final XpsStack stack;
    private final Route route;
    private final int logicalPort;

    UdpEndpoint(XpsStack stack, Route route, int logicalPort) {
        super(true);
        this.stack = stack;
        this.route = route;
        this.logicalPort = logicalPort;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
        byte[] data = ByteBufUtil.getBytes(packet.content());
        InetSocketAddress sender = packet.sender();
        InetSocketAddress local = packet.recipient() != null ? packet.recipient()
                : (InetSocketAddress) ctx.channel().localAddress();
        ConnectionInfo info = new ConnectionInfo(Protocol.UDP, sender, local,
                logicalPort < 0 ? local.getPort() : logicalPort);
        SegmentObserver observer = stack.observer();
        Optional<EntryPoint> entry = route.find(stack.program(), info);
        if (entry.isEmpty()) {
            if (observer != null) {
                observer.segment(info, data, new SegmentObserver.Outcome(Verdict.PASS,
                        SegmentObserver.Reason.NO_ENTRY, Optional.empty()));
            }
            pass(ctx.channel(), info, data);
            return;
        }
        SegmentResult result = stack.processor().process(entry.get(), data);
        if (observer != null) {
            observer.segment(info, data, new SegmentObserver.Outcome(result.verdict(),
                    SegmentObserver.Reason.HANDLED, Optional.of(result)));
        }
        switch (result.verdict()) {
            case TX -> ctx.writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(result.response()), sender));
            case DROP, RESET -> { }
            case PASS -> pass(ctx.channel(), info, data);
        }
    }

    private void pass(Channel channel, ConnectionInfo info, byte[] data) {
        stack.serviceExecutor().execute(() -> {
            CompletionStage<ServiceReply> reply;
            try {
                reply = stack.service().datagram(info, data);
            } catch (RuntimeException e) {
                reply = CompletableFuture.failedFuture(e);
            }
            reply.whenComplete((r, e) -> {
                if (e != null) {
                    XpsStack.LOG.log(System.Logger.Level.WARNING, "service failed on a datagram from " + info.remote(), e);
                } else if (r != null && r.bytes().length > 0 && channel.isActive()) {
                    channel.writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(r.bytes()), info.remote()));
                }
            });
        });
    }
}
