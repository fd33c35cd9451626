package dev.xps.consensus;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;

/**
 * Opens a node's UDP sockets. The default binds in the caller's network namespace; tests open them from a thread
 * that has entered a member's namespace (a socket stays in the namespace it was created in).
 */
@FunctionalInterface
public interface ChannelFactory {
    DatagramChannel open(InetSocketAddress bind) throws IOException;

    static ChannelFactory standard() {
        return bind -> {
            DatagramChannel ch = DatagramChannel.open(java.net.StandardProtocolFamily.INET);
            try {
                ch.setOption(java.net.StandardSocketOptions.SO_RCVBUF, 4 << 20);
                ch.setOption(java.net.StandardSocketOptions.SO_SNDBUF, 4 << 20);
                ch.bind(bind);
                return ch;
            } catch (IOException | RuntimeException e) {
                ch.close();
                throw e;
            }
        };
    }
}
