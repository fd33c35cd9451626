package dev.xps.compiler.target;

/** One output file, relative to the output directory. */
public record GeneratedFile(String relativePath, byte[] content) {
    public static GeneratedFile text(String relativePath, String content) {
        return new GeneratedFile(relativePath, content.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
}
