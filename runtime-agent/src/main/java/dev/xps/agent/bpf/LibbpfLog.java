package dev.xps.agent.bpf;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * libbpf's log output, captured through {@code libbpf_set_print} with an upcall.
 *
 * <p>libbpf calls the print function on the thread that called into libbpf, so every binding operation
 * opens a {@link Capture} on its thread; when the operation fails, the text captured so far (WARN and INFO
 * lines, which include the kernel verifier's log when a program is rejected) goes into the
 * {@link BpfException}. Everything is also forwarded to the {@link System.Logger} named
 * {@code dev.xps.agent.libbpf}: WARN lines at WARNING when no capture is open (otherwise at DEBUG, since the
 * exception carries them), INFO at DEBUG, DEBUG at TRACE.
 *
 * <p>Formatting: the callback receives a {@code printf} format and a {@code va_list}. On x86-64 and AArch64 a
 * {@code va_list} argument is passed as a pointer to a small structure, so the upcall copies that structure
 * ({@code va_copy} is a plain structure copy on both ABIs), measures the output with {@code vsnprintf(NULL, 0,
 * ...)} and formats it in full; on other architectures it formats once into a 256 KiB buffer.
 */
public final class LibbpfLog {
    /** libbpf_print_level. */
    public enum Level { WARN, INFO, DEBUG }

    private static final System.Logger LOG = System.getLogger("dev.xps.agent.libbpf");
    private static final ThreadLocal<Capture> CURRENT = new ThreadLocal<>();
    private static final int VA_LIST_SIZE = switch (System.getProperty("os.arch")) {
        case "amd64", "x86_64" -> 24;
        case "aarch64" -> 32;
        default -> 0;
    };
    private static final int FALLBACK_BUFFER = 256 * 1024;
    /** Bounds what one capture keeps (the verifier log is at most 16 MiB; the end matters most). */
    static final int MAX_CAPTURE_CHARS = 4 * 1024 * 1024;

    private static volatile boolean installed;

    private LibbpfLog() {}

    /** Installs the print callback (once, from {@link Native#bpf()}); the upcall stub lives forever. */
    static synchronized void install(Native.Libbpf bpf) {
        if (installed) {
            return;
        }
        try {
            var target = MethodHandles.lookup().findStatic(LibbpfLog.class, "print",
                    MethodType.methodType(int.class, int.class, MemorySegment.class, MemorySegment.class));
            MemorySegment stub = Native.LINKER.upcallStub(target,
                    FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS), Arena.global());
            MemorySegment ignoredPrevious = (MemorySegment) bpf.setPrint.invokeExact(stub);
            installed = true;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** Starts capturing libbpf's output on this thread; nested captures all see the text. */
    public static Capture capture() {
        Capture c = new Capture(CURRENT.get());
        CURRENT.set(c);
        return c;
    }

    /** The text captured by the innermost open capture on this thread, or "" when none. */
    static String capturedText() {
        Capture c = CURRENT.get();
        return c == null ? "" : c.text();
    }

    /** An open capture of libbpf's output on the current thread. */
    public static final class Capture implements AutoCloseable {
        private final Capture outer;
        private final StringBuilder text = new StringBuilder();
        private boolean truncated;

        private Capture(Capture outer) {
            this.outer = outer;
        }

        void append(String s) {
            if (text.length() + s.length() > MAX_CAPTURE_CHARS) {
                // keep the end: the verifier's verdict is the last line of its log
                int keep = Math.max(0, MAX_CAPTURE_CHARS - s.length());
                text.delete(0, Math.max(0, text.length() - keep));
                truncated = true;
            }
            text.append(s.length() > MAX_CAPTURE_CHARS ? s.substring(s.length() - MAX_CAPTURE_CHARS) : s);
            if (outer != null) {
                outer.append(s);
            }
        }

        /** What libbpf printed (WARN and INFO) since this capture was opened. */
        public String text() {
            return truncated ? "[... earlier libbpf output truncated ...]\n" + text : text.toString();
        }

        @Override
        public void close() {
            if (CURRENT.get() == this) {
                if (outer == null) {
                    CURRENT.remove();
                } else {
                    CURRENT.set(outer);
                }
            }
        }
    }

    /** The upcall. Must never throw: an exception escaping an upcall kills the JVM. */
    @SuppressWarnings("unused")
    private static int print(int level, MemorySegment format, MemorySegment vaList) {
        try {
            Level lvl = level >= 0 && level < Level.values().length ? Level.values()[level] : Level.DEBUG;
            Capture capture = CURRENT.get();
            boolean wanted = (capture != null && lvl != Level.DEBUG)
                    || LOG.isLoggable(loggerLevel(lvl, capture != null));
            if (!wanted) {
                return 0;
            }
            String s = format(format, vaList);
            if (capture != null && lvl != Level.DEBUG) {
                capture.append(s);
            }
            System.Logger.Level ll = loggerLevel(lvl, capture != null);
            if (LOG.isLoggable(ll)) {
                LOG.log(ll, "libbpf: " + s.stripTrailing());
            }
            return s.length();
        } catch (Throwable t) {
            return 0;
        }
    }

    private static System.Logger.Level loggerLevel(Level lvl, boolean captured) {
        return switch (lvl) {
            case WARN -> captured ? System.Logger.Level.DEBUG : System.Logger.Level.WARNING;
            case INFO -> System.Logger.Level.DEBUG;
            case DEBUG -> System.Logger.Level.TRACE;
        };
    }

    private static String format(MemorySegment format, MemorySegment vaList) throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            if (VA_LIST_SIZE > 0) {
                MemorySegment original = vaList.reinterpret(VA_LIST_SIZE);
                MemorySegment copy1 = arena.allocate(VA_LIST_SIZE, 8).copyFrom(original);
                MemorySegment copy2 = arena.allocate(VA_LIST_SIZE, 8).copyFrom(original);
                int n = (int) Native.Libc.VSNPRINTF.invokeExact(MemorySegment.NULL, 0L, format, copy1);
                if (n < 0) {
                    return "<unformattable libbpf message: " + Native.cString(format) + ">\n";
                }
                MemorySegment buf = arena.allocate(n + 1L);
                int written = (int) Native.Libc.VSNPRINTF.invokeExact(buf, (long) n + 1, format, copy2);
                return written < 0 ? "<unformattable libbpf message>\n" : buf.getString(0);
            }
            MemorySegment buf = arena.allocate(FALLBACK_BUFFER);
            int written = (int) Native.Libc.VSNPRINTF.invokeExact(buf, (long) FALLBACK_BUFFER, format, vaList);
            return written < 0 ? "<unformattable libbpf message>\n" : buf.getString(0);
        }
    }
}
