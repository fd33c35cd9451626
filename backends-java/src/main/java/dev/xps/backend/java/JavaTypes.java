package dev.xps.backend.java;

import com.palantir.javapoet.ClassName;
import com.palantir.javapoet.CodeBlock;
import dev.xps.compiler.ir.ByteOrder;
import dev.xps.compiler.ir.Verdict;

/** How IR enums are spelled in generated code (the IR and the runtime each have a Verdict). */
final class JavaTypes {
    private JavaTypes() {}

    static final ClassName VERDICT = ClassName.get(dev.xps.runtime.Verdict.class);
    static final ClassName NIO_BYTE_ORDER = ClassName.get(java.nio.ByteOrder.class);

    static CodeBlock verdict(Verdict v) {
        return CodeBlock.of("$T.$L", VERDICT, dev.xps.runtime.Verdict.valueOf(v.name()).name());
    }

    static CodeBlock byteOrder(ByteOrder order) {
        return CodeBlock.of("$T.$L", NIO_BYTE_ORDER, order == ByteOrder.BIG ? "BIG_ENDIAN" : "LITTLE_ENDIAN");
    }

    /**
     * The runtime's named reader/writer for an integer field ({@code u8}, {@code u16be}, ...), or
     * null for widths the language does not name.
     */
    static String intMethod(int width, ByteOrder order) {
        String suffix = order == ByteOrder.BIG ? "be" : "le";
        return switch (width) {
            case 1 -> "u8";
            case 2 -> "u16" + suffix;
            case 4 -> "u32" + suffix;
            case 8 -> "u64" + suffix;
            default -> null;
        };
    }
}
