package dev.xps.agent.p4;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/** A {@link SwitchCli} that records every batch and answers with canned outputs, one list per batch. */
final class RecordingCli implements SwitchCli {
    final List<List<String>> batches = new ArrayList<>();
    private final Deque<List<String>> answers = new ArrayDeque<>();

    RecordingCli answer(String... outputs) {
        answers.add(List.of(outputs));
        return this;
    }

    @Override
    public List<String> run(List<String> commands) {
        batches.add(List.copyOf(commands));
        if (answers.isEmpty()) {
            throw new AssertionError("unexpected batch " + commands);
        }
        List<String> out = answers.poll();
        if (out.size() != commands.size()) {
            throw new AssertionError("canned " + out.size() + " outputs for " + commands);
        }
        return out;
    }

    void assertAllAnswered() {
        if (!answers.isEmpty()) {
            throw new AssertionError("batches expected but not run: " + answers);
        }
    }
}
