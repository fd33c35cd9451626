package dev.xps.runtime;

/** Where packets enter a program: a handler or a dispatch with its predicate. */
public record EntryPoint(String name, Predicate predicate, MessageHandler handler) {}
