package dev.xps.runtime;

/**
 * The code of an entry point for one message: decodes {@code msg}, may append to {@code out}, and
 * returns the message's verdict. Throws {@link Incomplete} when the message needs bytes not yet
 * received; every other outcome, malformed included, is a verdict. How many bytes the message
 * consumed is {@link Message#length()} afterwards.
 */
@FunctionalInterface
public interface MessageHandler {
    Verdict handle(Message msg, Response out);
}
