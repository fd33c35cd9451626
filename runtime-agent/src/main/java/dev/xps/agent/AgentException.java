package dev.xps.agent;

/** A refusal or failure of the agent with a message meant for the operator. */
public class AgentException extends RuntimeException {
    public AgentException(String message) {
        super(message);
    }

    public AgentException(String message, Throwable cause) {
        super(message, cause);
    }

    /** Another context already serves an entry point's port. */
    public static final class PortClaimed extends AgentException {
        public PortClaimed(String message) {
            super(message);
        }
    }

    /** The verifier refused a program; the message names the {@code .bpf.c} and {@code .xps} lines. */
    public static final class VerifierRejected extends AgentException {
        private final String xpsLocation;

        public VerifierRejected(String message, String xpsLocation, Throwable cause) {
            super(message, cause);
            this.xpsLocation = xpsLocation;
        }

        /** {@code file.xps:N}, or null when the log names no source line. */
        public String xpsLocation() {
            return xpsLocation;
        }
    }
}
