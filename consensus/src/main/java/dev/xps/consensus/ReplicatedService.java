package dev.xps.consensus;

import java.net.InetSocketAddress;

/**
 * The host service behind a consensus group. Both implementations (the host-only baseline and the
 * eBPF data plane's host library) call it the same way: committed requests in strictly increasing
 * {@code op} order, each exactly once; {@code op} is the request's logical timestamp.
 */
public interface ReplicatedService {
    /**
     * Executes committed entry {@code op}.
     *
     * @return the reply to send to {@code client} — sent only by the leader (replicas apply and stay quiet);
     *         {@code null} for no reply
     */
    byte[] execute(long op, InetSocketAddress client, byte[] request);
}
