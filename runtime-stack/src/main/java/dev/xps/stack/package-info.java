/**
 * The user-space stack: generated Java handlers ({@link dev.xps.runtime.XpsProgram}) hosted on
 * Netty's native epoll transport, with the verdict semantics of the kernel target. Depends on
 * {@code handler-runtime} and Netty only, never on the compiler (the build enforces it).
 *
 * <ul>
 *   <li>{@link dev.xps.stack.XpsStack}: listeners (TCP, UDP), the program (hot swap), the maps
 *       shared with the service.
 *   <li>{@link dev.xps.stack.Service}, {@link dev.xps.stack.ServiceReply}: the service behind the
 *       fast path; per passed segment it answers the bytes to send and whether its parser is at a
 *       message boundary.
 *   <li>{@link dev.xps.stack.SegmentObserver}: a hook that sees every segment's decision (tests,
 *       tracing).
 *   <li>{@code dev.xps.stack.sample}: the services of {@code bin/xps-kv} and {@code bin/xps-http}.
 * </ul>
 *
 * See {@code runtime-stack/README.md} for threading, ordering, resynchronisation and resets.
 */
package dev.xps.stack;
