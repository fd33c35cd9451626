package dev.xps.backend.nfp;

import dev.xps.testing.SampleFiles;
import java.nio.file.Path;
import java.util.List;

/** Extra programs written for the nfp target's tests, beside the repository's samples. */
final class NfpPrograms {
    private NfpPrograms() {}

    static Path dir() {
        return SampleFiles.moduleDir().resolve("src/test/resources/programs");
    }

    static List<Path> all() {
        return SampleFiles.xpsFilesIn(dir());
    }
}
