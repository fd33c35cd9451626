package dev.xps.compiler.target;

import dev.xps.compiler.diag.SourceLocation;

/** The result of one in-language test on one target. {@code detail} says why it failed. */
public record TestOutcome(String testName, SourceLocation location, boolean passed, String detail) {}
