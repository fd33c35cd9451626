package dev.xps.agent.bpf;

import java.util.List;

/**
 * A failed libbpf or bpf() operation: which operation, on what, the errno with its name and message, and
 * what libbpf printed meanwhile (the kernel verifier's log when a program was rejected).
 *
 * <p>The message reads {@code bpf_object__load(redis.bpf.o): EACCES: Permission denied}, followed, when the
 * verifier rejected a program, by its log (the last {@value #MESSAGE_LOG_LINES} lines), otherwise by libbpf's
 * warnings. {@link #log()} has everything libbpf printed; {@link #verifierLog()} just the verifier's part.
 *
 * <p>The nested subclasses name the failures callers handle differently from "something broke".
 */
public class BpfException extends RuntimeException {
    static final int MESSAGE_LOG_LINES = 200;
    private static final String BEGIN_LOG = "-- BEGIN PROG LOAD LOG --";
    private static final String END_LOG = "-- END PROG LOAD LOG --";

    private final String operation;
    private final String subject;
    private final int errno;
    private final String log;

    public BpfException(String operation, String subject, int errno, String log) {
        this(operation, subject, errno, null, log);
    }

    /** With an explanation appended to the headline, e.g. {@code ...: E2BIG: Argument list too long: the map is full}. */
    protected BpfException(String operation, String subject, int errno, String explanation, String log) {
        super(headline(operation, subject, errno) + (explanation == null ? "" : ": " + explanation) + details(log));
        this.operation = operation;
        this.subject = subject;
        this.errno = Math.abs(errno);
        this.log = log == null ? "" : log;
    }

    /** The exception for {@code errno}: a nested subclass where one fits. */
    static BpfException of(String operation, String subject, int errno, String log) {
        return new BpfException(operation, subject, errno, log);
    }

    /** The libbpf or syscall operation, e.g. {@code bpf_object__load}. */
    public String operation() {
        return operation;
    }

    /** What it was applied to (a file, a map, a path), or null. */
    public String subject() {
        return subject;
    }

    /** The positive errno (or libbpf error code, 4000 and up). */
    public int errno() {
        return errno;
    }

    /** {@code EACCES}, ... */
    public String errnoName() {
        return Errno.name(errno);
    }

    /** Everything libbpf printed (WARN and INFO) during the operation; "" if nothing. */
    public String log() {
        return log;
    }

    /** The kernel verifier's log for a rejected program, or "" if this failure had none. */
    public String verifierLog() {
        return extractVerifierLog(log);
    }

    static String headline(String operation, String subject, int errno) {
        return operation + (subject == null ? "" : "(" + subject + ")") + ": " + Errno.describe(errno);
    }

    static String extractVerifierLog(String log) {
        if (log == null) {
            return "";
        }
        StringBuilder out = new StringBuilder();
        int from = 0;
        while (true) {
            int b = log.indexOf(BEGIN_LOG, from);
            if (b < 0) {
                break;
            }
            int start = log.indexOf('\n', b);
            int e = log.indexOf(END_LOG, b);
            if (start < 0 || e < 0 || e < start) {
                out.append(log, start < 0 ? b : start + 1, log.length());
                break;
            }
            out.append(log, start + 1, e);
            from = e + END_LOG.length();
        }
        return out.toString();
    }

    static String suffix(String note) {
        return note == null ? "" : "; " + note;
    }

    private static String details(String log) {
        if (log == null || log.isBlank()) {
            return "";
        }
        String verifier = extractVerifierLog(log);
        String body = verifier.isBlank() ? log : verifier;
        String title = verifier.isBlank() ? "libbpf said:" : "verifier log:";
        List<String> lines = body.strip().lines().toList();
        StringBuilder sb = new StringBuilder("\n").append(title);
        int from = Math.max(0, lines.size() - MESSAGE_LOG_LINES);
        if (from > 0) {
            sb.append("\n  [... ").append(from).append(" earlier lines; see log() ...]");
        }
        for (String line : lines.subList(from, lines.size())) {
            sb.append("\n  ").append(line);
        }
        return sb.toString();
    }

    /** A hash-like map has no room for another key (E2BIG), or a map type reported ENOSPC on insert. */
    public static final class MapFull extends BpfException {
        public MapFull(String operation, String subject, int errno, long maxEntries, String note) {
            super(operation, subject, errno, "the map is full (max_entries " + maxEntries + ")" + suffix(note), "");
        }
    }

    /** An array map's index is outside {@code [0, max_entries)} (E2BIG from the kernel). */
    public static final class IndexOutOfRange extends BpfException {
        public IndexOutOfRange(String operation, String subject, int errno, long index, long maxEntries,
                               String note) {
            super(operation, subject, errno, "index " + index + " is outside [0, " + maxEntries + ")" + suffix(note),
                    "");
        }
    }

    /** The key is not in the map (ENOENT), for operations that require it. */
    public static final class KeyNotFound extends BpfException {
        public KeyNotFound(String operation, String subject, String key, String note) {
            super(operation, subject, Errno.ENOENT, "no such key " + key + suffix(note), "");
        }
    }

    /** An insert-only update found the key already present (EEXIST). */
    public static final class KeyExists extends BpfException {
        public KeyExists(String operation, String subject, String key, String note) {
            super(operation, subject, Errno.EEXIST, "the key " + key + " is already present" + suffix(note), "");
        }
    }
}
