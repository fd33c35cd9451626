package dev.xps.backend.java;

import com.palantir.javapoet.ClassName;
import com.palantir.javapoet.CodeBlock;
import com.palantir.javapoet.FieldSpec;
import com.palantir.javapoet.JavaFile;
import com.palantir.javapoet.MethodSpec;
import com.palantir.javapoet.ParameterizedTypeName;
import com.palantir.javapoet.TypeSpec;
import dev.xps.compiler.diag.SourceLocation;
import dev.xps.compiler.ir.IrConsensus;
import dev.xps.compiler.ir.IrEntryPoint;
import dev.xps.compiler.ir.IrHandler;
import dev.xps.compiler.ir.IrMap;
import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.ir.IrType;
import dev.xps.compiler.ir.MapKind;
import dev.xps.compiler.ir.Predicate;
import dev.xps.compiler.ir.Protocol;
import dev.xps.runtime.EntryPoint;
import dev.xps.runtime.IpPrefix;
import dev.xps.runtime.MapSpec;
import dev.xps.runtime.MapStore;
import dev.xps.runtime.Message;
import dev.xps.runtime.Response;
import dev.xps.runtime.ValueType;
import dev.xps.runtime.XpsMap;
import dev.xps.runtime.XpsProgram;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import javax.lang.model.element.Modifier;

/**
 * One {@code .xps} module as one Java class in package {@value #PACKAGE} implementing
 * {@link XpsProgram}: map declarations and literals as constants, the maps as fields opened from
 * the {@link MapStore} given to the constructor, the entry points with their predicates, then one
 * method per dispatch and per handler, in source order, keeping the source's names.
 */
final class JavaGenerator {
    static final String PACKAGE = "xps.generated";

    private final IrModule module;
    private final String fileName;
    private final ClassName className;
    private final JavaNames.Allocator fieldNames;
    private final Constants constants;
    /** Map name → its MapSpec constant / its XpsMap field. */
    private final Map<String, String> specConstants = new LinkedHashMap<>();
    private final Map<String, String> mapFields = new LinkedHashMap<>();
    /** Handler or dispatch name → method name. */
    private final Map<String, String> methods = new LinkedHashMap<>();

    JavaGenerator(IrModule module) {
        this.module = module;
        this.fileName = Comments.fileName(module.sourceFile());
        this.className = ClassName.get(PACKAGE, JavaNames.className(module.baseName()));
        Set<String> reserved = new HashSet<>(JavaNames.GENERATED);
        reserved.add(className.simpleName());
        this.fieldNames = new JavaNames.Allocator(reserved);
        for (IrMap map : module.maps()) {
            specConstants.put(map.name(), fieldNames.allocate(JavaNames.upperSnake(map.name())));
        }
        for (IrMap map : module.maps()) {
            mapFields.put(map.name(), fieldNames.allocate(map.name()));
        }
        this.constants = new Constants(fieldNames);
        LiteralCollector literals = new LiteralCollector(constants);
        JavaNames.Allocator methodNames = new JavaNames.Allocator(Set.of());
        for (Member m : members()) {
            switch (m) {
                case Member.OfDispatch d -> literals.dispatch(d.dispatch());
                case Member.OfHandler h -> literals.handler(h.handler());
            }
            methods.put(m.name(), methodNames.allocate(m.name()));
        }
    }

    /** {@code java/xps/generated/RedisGet.java}. */
    String relativePath() {
        return "java/" + PACKAGE.replace('.', '/') + "/" + className.simpleName() + ".java";
    }

    String generate() {
        TypeSpec.Builder type = TypeSpec.classBuilder(className)
                .addModifiers(Modifier.PUBLIC, Modifier.FINAL)
                .addSuperinterface(XpsProgram.class)
                .addJavadoc("The handlers of {@code $L}. Construct with the {@link $T} that holds the maps, then run\n"
                        + "an entry point's handler on received data with a {@link $T}.\n",
                        fileName, MapStore.class, dev.xps.runtime.SegmentProcessor.class);
        for (IrConsensus c : module.consensus()) {
            // The capability check warned about it; the class says so too, for whoever reads it.
            type.addJavadoc("\n<p>Consensus block {@code $L} ($L) is not lowered for the Java target.\n", c.name(),
                    Comments.at(c.location()));
        }
        for (IrMap map : module.maps()) {
            type.addField(mapSpec(map));
        }
        type.addFields(constants.fields());
        for (IrMap map : module.maps()) {
            type.addField(FieldSpec.builder(XpsMap.class, mapFields.get(map.name()), Modifier.PRIVATE, Modifier.FINAL)
                    .build());
        }
        type.addField(FieldSpec.builder(ParameterizedTypeName.get(List.class, EntryPoint.class), "entryPoints",
                Modifier.PRIVATE, Modifier.FINAL).build());
        type.addMethod(constructor());
        type.addMethod(MethodSpec.methodBuilder("sourceFile")
                .addAnnotation(Override.class)
                .addModifiers(Modifier.PUBLIC)
                .returns(String.class)
                .addStatement("return $S", fileName)
                .build());
        type.addMethod(MethodSpec.methodBuilder("maps")
                .addAnnotation(Override.class)
                .addModifiers(Modifier.PUBLIC)
                .returns(ParameterizedTypeName.get(List.class, MapSpec.class))
                .addStatement("return $T.of($L)", List.class, String.join(", ", specConstants.values()))
                .build());
        type.addMethod(MethodSpec.methodBuilder("entryPoints")
                .addAnnotation(Override.class)
                .addModifiers(Modifier.PUBLIC)
                .returns(ParameterizedTypeName.get(List.class, EntryPoint.class))
                .addStatement("return entryPoints")
                .build());
        for (Member m : members()) {
            type.addMethod(switch (m) {
                case Member.OfDispatch d -> dispatch(d.dispatch());
                case Member.OfHandler h -> new HandlerEmitter(h.handler(), constants, mapFields, fieldNames)
                        .emit(methods.get(h.name()), declaration(h.handler()));
            });
        }
        String source = JavaFile.builder(PACKAGE, type.build())
                .addFileComment("Generated by xpsc from $L. Do not edit.", fileName)
                .skipJavaLangImports(true)
                .indent("    ")
                .build()
                .toString();
        return ONE_LINE_JAVADOC.matcher(source).replaceAll("$1/** $2 */");
    }

    /** JavaPoet always spreads javadoc over three lines; one-line comments read better as one line. */
    private static final Pattern ONE_LINE_JAVADOC = Pattern.compile("(?m)^( *)/\\*\\*\n\\1 \\* ([^\n]*)\n\\1 \\*/$");

    // ------------------------------------------------------------------ members in source order

    private sealed interface Member {
        String name();

        SourceLocation location();

        record OfDispatch(IrEntryPoint.Dispatch dispatch) implements Member {
            public String name() {
                return dispatch.name();
            }

            public SourceLocation location() {
                return dispatch.location();
            }
        }

        record OfHandler(IrHandler handler) implements Member {
            public String name() {
                return handler.name();
            }

            public SourceLocation location() {
                return handler.location();
            }
        }
    }

    private List<Member> members() {
        List<Member> out = new ArrayList<>();
        for (IrEntryPoint e : module.entryPoints()) {
            if (e instanceof IrEntryPoint.Dispatch d) {
                out.add(new Member.OfDispatch(d));
            }
        }
        module.handlers().forEach(h -> out.add(new Member.OfHandler(h)));
        out.sort(Comparator.comparingInt((Member m) -> m.location().line()).thenComparingInt(m -> m.location().column()));
        return out;
    }

    // ------------------------------------------------------------------ maps

    private FieldSpec mapSpec(IrMap map) {
        return FieldSpec.builder(MapSpec.class, specConstants.get(map.name()), Modifier.PUBLIC, Modifier.STATIC,
                        Modifier.FINAL)
                .addJavadoc("{@code $L} ($L)", mapDeclaration(map), Comments.at(map.location()))
                .initializer("new $T($S, $T.$L,$W$L, $L,$W$L, $L)", MapSpec.class, map.name(), dev.xps.runtime.MapKind.class,
                        map.kind().name(), valueType(map.keyType()), valueType(map.valueType()),
                        capacity(map.capacity()), map.stats())
                .build();
    }

    private static String mapDeclaration(IrMap map) {
        String types = map.kind() == MapKind.LOG ? map.valueType().toString()
                : map.keyType() + ", " + map.valueType();
        return "map " + map.name() + " : " + map.kind().name().toLowerCase(Locale.ROOT) + "<" + types + "> capacity "
                + map.capacity() + (map.stats() ? " with stats" : "");
    }

    private static CodeBlock valueType(IrType type) {
        return switch (type) {
            case IrType.Int i -> CodeBlock.of("$T.u$L()", ValueType.class, i.bits());
            case IrType.Bytes b -> CodeBlock.of("$T.bytes($L)", ValueType.class, b.maxLength());
            case IrType.Bool b -> throw new IllegalArgumentException("a map cannot hold bool");
        };
    }

    /** {@code 2_000_000L}, as people write capacities. */
    static String capacity(long value) {
        String digits = Long.toString(value);
        if (digits.length() <= 4) {
            return digits + "L";
        }
        StringBuilder s = new StringBuilder();
        int lead = digits.length() % 3 == 0 ? 3 : digits.length() % 3;
        s.append(digits, 0, lead);
        for (int i = lead; i < digits.length(); i += 3) {
            s.append('_').append(digits, i, i + 3);
        }
        return s.append('L').toString();
    }

    // ------------------------------------------------------------------ constructor and entry points

    private MethodSpec constructor() {
        MethodSpec.Builder ctor = MethodSpec.constructorBuilder()
                .addModifiers(Modifier.PUBLIC)
                .addJavadoc("Opens this module's maps in {@code maps}, creating the ones it does not hold yet.\n")
                .addParameter(MapStore.class, "maps");
        for (IrMap map : module.maps()) {
            ctor.addStatement("this.$N = maps.open($N)", mapFields.get(map.name()), specConstants.get(map.name()));
        }
        List<CodeBlock> entries = new ArrayList<>();
        for (IrEntryPoint e : module.entryPoints()) {
            String method = switch (e) {
                case IrEntryPoint.Direct d -> methods.get(d.handler().name());
                case IrEntryPoint.Dispatch d -> methods.get(d.name());
            };
            entries.add(CodeBlock.of("new $T($S, $L, this::$N)", EntryPoint.class, e.name(), predicate(e.predicate()),
                    method));
        }
        if (entries.isEmpty()) {
            ctor.addStatement("this.entryPoints = $T.of()", List.class);
        } else {
            // A statement's continuation lines are indented by JavaPoet already.
            ctor.addStatement("this.entryPoints = $T.of(\n$L)", List.class, CodeBlock.join(entries, ",\n"));
        }
        return ctor.build();
    }

    /** {@code Predicate.tcp(6379)}, {@code Predicate.udp(5000, 5010).from(IpPrefix.parse("10.0.0.0/8"))}. */
    private static CodeBlock predicate(Predicate p) {
        CodeBlock.Builder code = CodeBlock.builder();
        String protocol = p.protocol() == Protocol.TCP ? "tcp" : "udp";
        if (p.dstPort().isSingle()) {
            code.add("$T.$L($L)", dev.xps.runtime.Predicate.class, protocol, p.dstPort().low());
        } else {
            code.add("$T.$L($L, $L)", dev.xps.runtime.Predicate.class, protocol, p.dstPort().low(), p.dstPort().high());
        }
        // $Z: a long predicate may wrap between its parts.
        p.srcPort().ifPresent(r -> code.add("$Z.sport($L, $L)", r.low(), r.high()));
        p.srcAddress().ifPresent(a -> code.add("$Z.from($T.parse($S))", IpPrefix.class, a.toString()));
        p.dstAddress().ifPresent(a -> code.add("$Z.to($T.parse($S))", IpPrefix.class, a.toString()));
        return code.build();
    }

    /** The source's declaration line for a handler's javadoc: {@code write handler set on tcp port 6379}. */
    private String declaration(IrHandler h) {
        StringBuilder s = new StringBuilder(h.write() ? "write handler " : "handler ").append(h.name());
        for (IrEntryPoint e : module.entryPoints()) {
            if (e instanceof IrEntryPoint.Direct d && d.handler() == h) {
                s.append(" on ").append(d.predicate());
            }
        }
        return s.toString();
    }

    // ------------------------------------------------------------------ dispatch

    /**
     * The arms in order as an if-chain on the selector; a handler arm runs that handler on the
     * same message, a verdict arm answers for the whole rest of the segment.
     */
    private MethodSpec dispatch(IrEntryPoint.Dispatch d) {
        CodeBlock.Builder code = CodeBlock.builder();
        boolean bytes = d.arms().stream().anyMatch(a -> a.selector() instanceof IrEntryPoint.Selector.BytesValue);
        if (bytes) {
            code.addStatement("byte[] selector = msg.peekBytes($L, $L)", d.offset(), d.length());
        } else {
            code.addStatement("long selector = msg.peekUint($L, $L, $L)", d.offset(), d.length(),
                    JavaTypes.byteOrder(d.order()));
        }
        for (IrEntryPoint.Arm arm : d.arms()) {
            CodeBlock condition = switch (arm.selector()) {
                case IrEntryPoint.Selector.IntValue v -> CodeBlock.of("selector == $L", ExprEmitter.longLiteral(v.value()));
                case IrEntryPoint.Selector.BytesValue v -> CodeBlock.of("$T.equals(selector, $N)", Arrays.class,
                        constants.named(v.value()));
            };
            code.add("if ($L) {  // $L\n$>", condition, Comments.at(arm.location()));
            code.addStatement("return $L", target(arm.target()));
            code.add("$<}\n");
        }
        code.addStatement("return $L", target(d.fallback()));
        String declaration = "dispatch " + d.name() + " on " + d.predicate() + " at offset " + d.offset() + " length "
                + d.length() + (bytes || d.length() == 1 ? "" : d.order() == dev.xps.compiler.ir.ByteOrder.BIG ? " be" : " le");
        return MethodSpec.methodBuilder(methods.get(d.name()))
                .addModifiers(Modifier.PRIVATE)
                .addJavadoc("{@code $L} ($L)", declaration, Comments.at(d.location()))
                .returns(JavaTypes.VERDICT)
                .addParameter(Message.class, "msg")
                .addParameter(Response.class, "out")
                .addCode(code.build())
                .build();
    }

    private CodeBlock target(IrEntryPoint.Target target) {
        return switch (target) {
            case IrEntryPoint.Target.ToHandler h -> CodeBlock.of("$N(msg, out)", methods.get(h.handler().name()));
            case IrEntryPoint.Target.ToVerdict v -> JavaTypes.verdict(v.verdict());
        };
    }

    /** {@code xps.generated.RedisGet}: the class the test runner loads. */
    String qualifiedClassName() {
        return className.canonicalName();
    }
}
