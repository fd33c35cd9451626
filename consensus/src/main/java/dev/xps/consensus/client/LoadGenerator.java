package dev.xps.consensus.client;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntFunction;

/**
 * Closed-loop load: each {@link VrClient} runs on its own thread and sends {@code requests} requests one after the
 * other (bounded: each request has at most the client's {@code maxAttempts} sends). Used by the tests and the
 * benchmark.
 */
public final class LoadGenerator {
    private LoadGenerator() {}

    /** What one run did; {@code answers.get(c)} lists client {@code c}'s answers in the order it got them. */
    public record Result(List<List<VrClient.Answer>> answers, long unanswered, long sent, long retries,
            long duplicates, long nanos) {
        public long answered() {
            return answers.stream().mapToLong(List::size).sum();
        }

        /** Latency percentile {@code p} (0..100) over every answer, in nanoseconds. */
        public long latencyPercentile(double p) {
            long[] all = answers.stream().flatMap(List::stream).mapToLong(VrClient.Answer::nanos).sorted().toArray();
            if (all.length == 0) {
                return 0;
            }
            int i = (int) Math.min(all.length - 1, Math.max(0, Math.ceil(p / 100 * all.length) - 1));
            return all[i];
        }

        public double throughputPerSecond() {
            return nanos == 0 ? 0 : answered() * 1e9 / nanos;
        }
    }

    /** Runs {@code requests} requests on every client, built by {@code build} from the request id. */
    public static Result run(List<VrClient> clients, int requests, IntFunction<byte[]> build) {
        int n = clients.size();
        List<List<VrClient.Answer>> answers = new ArrayList<>();
        long[] unanswered = new long[n];
        long[] sentBefore = new long[n];
        long[] retriesBefore = new long[n];
        long[] dupBefore = new long[n];
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < n; c++) {
            VrClient client = clients.get(c);
            List<VrClient.Answer> mine = Collections.synchronizedList(new ArrayList<>());
            answers.add(mine);
            sentBefore[c] = client.sent();
            retriesBefore[c] = client.retries();
            dupBefore[c] = client.duplicates();
            int idx = c;
            threads.add(Thread.ofPlatform().name("vr-load-" + c).start(() -> {
                try {
                    for (int i = 0; i < requests; i++) {
                        VrClient.Answer a = client.call(build);
                        if (a == null) {
                            unanswered[idx]++;
                        } else {
                            mine.add(a);
                        }
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            }));
        }
        long start = System.nanoTime();
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
        }
        long nanos = System.nanoTime() - start;
        if (failure.get() != null) {
            throw new IllegalStateException("a load thread failed", failure.get());
        }
        long sent = 0;
        long retries = 0;
        long dups = 0;
        for (int c = 0; c < n; c++) {
            sent += clients.get(c).sent() - sentBefore[c];
            retries += clients.get(c).retries() - retriesBefore[c];
            dups += clients.get(c).duplicates() - dupBefore[c];
        }
        List<List<VrClient.Answer>> frozen = new ArrayList<>();
        answers.forEach(a -> frozen.add(List.copyOf(a)));
        return new Result(List.copyOf(frozen), Arrays.stream(unanswered).sum(), sent, retries, dups, nanos);
    }
}
