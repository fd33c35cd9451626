package dev.xps.backend.java;

import com.palantir.javapoet.CodeBlock;
import com.palantir.javapoet.MethodSpec;
import com.palantir.javapoet.TypeName;
import dev.xps.compiler.diag.SourceLocation;
import dev.xps.compiler.ir.ByteOrder;
import dev.xps.compiler.ir.DecodeOp;
import dev.xps.compiler.ir.EncodeItem;
import dev.xps.compiler.ir.IrExpr;
import dev.xps.compiler.ir.IrHandler;
import dev.xps.compiler.ir.IrLocal;
import dev.xps.compiler.ir.IrMap;
import dev.xps.compiler.ir.IrStmt;
import dev.xps.compiler.ir.IrType;
import dev.xps.runtime.Malformed;
import dev.xps.runtime.MapLayout;
import dev.xps.runtime.Message;
import dev.xps.runtime.Response;
import dev.xps.runtime.XpsMap;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import javax.lang.model.element.Modifier;

/**
 * One handler as one method, {@code Verdict name(Message msg, Response out)}, its statements in
 * source order, each preceded by a comment with its source line (decode steps carry theirs at the
 * end of the line). The decode block becomes a {@code try} whose {@code catch (Malformed ...)}
 * returns the block's {@code else} verdict; {@link dev.xps.runtime.Incomplete} is left to the
 * segment processor.
 */
final class HandlerEmitter {
    private final IrHandler handler;
    private final Constants constants;
    private final Map<String, String> mapFields;
    private final JavaNames.Allocator names;
    private final Map<IrLocal, String> locals = new HashMap<>();
    private final ExprEmitter exprs;
    private String lastComment = "";

    HandlerEmitter(IrHandler handler, Constants constants, Map<String, String> mapFields,
                   JavaNames.Allocator classNames) {
        this.handler = handler;
        this.constants = constants;
        this.mapFields = mapFields;
        this.names = new JavaNames.Allocator(classNames);
        for (IrLocal local : handler.locals()) {
            locals.put(local, names.allocate(local.name()));
        }
        this.exprs = new ExprEmitter(locals, constants);
    }

    MethodSpec emit(String methodName, String declaration) {
        CodeBlock.Builder body = CodeBlock.builder();
        statements(handler.body(), body);
        return MethodSpec.methodBuilder(methodName)
                .addModifiers(Modifier.PRIVATE)
                .addJavadoc("{@code $L} ($L)", declaration, Comments.at(handler.location()))
                .returns(JavaTypes.VERDICT)
                .addParameter(Message.class, "msg")
                .addParameter(Response.class, "out")
                .addCode(body.build())
                .build();
    }

    private void statements(List<IrStmt> body, CodeBlock.Builder code) {
        for (IrStmt s : body) {
            if (!(s instanceof IrStmt.Decode) && !(s instanceof IrStmt.If)) {
                lineComment(s.location(), code);
            }
            statement(s, code);
        }
    }

    /**
     * {@code // file:line} before a statement, unless the previous comment named the same line
     * ({@code if x { return pass; }} on one source line gets one comment).
     */
    private void lineComment(SourceLocation location, CodeBlock.Builder code) {
        String at = Comments.at(location);
        if (!at.equals(lastComment)) {
            code.add("// $L\n", at);
        }
        lastComment = at;
    }

    private void statement(IrStmt s, CodeBlock.Builder code) {
        switch (s) {
            case IrStmt.Decode d -> decode(d, code);
            case IrStmt.Let l -> code.addStatement("$T $N = $L", javaType(l.target().type()), local(l.target()),
                    exprs.emit(l.value()));
            case IrStmt.Lookup l -> lookup(l, code);
            case IrStmt.Update u -> {
                CodeBlock put = CodeBlock.of("$N.put($L, $L)", field(u.map()), key(u.map(), u.key()),
                        value(u.map(), u.value()));
                if (u.onFull().isPresent()) {
                    code.beginControlFlow("if (!$L)", put);
                    code.addStatement("return $L", JavaTypes.verdict(u.onFull().get()));
                    code.endControlFlow();
                } else {
                    code.addStatement("$L", put);
                }
            }
            case IrStmt.Delete d -> code.addStatement("$N.delete($L)", field(d.map()), key(d.map(), d.key()));
            case IrStmt.Append a -> {
                code.addStatement("long $N = $N.append($L)", local(a.target()), field(a.map()),
                        value(a.map(), a.value()));
                code.beginControlFlow("if ($N == $T.FULL)", local(a.target()), XpsMap.class);
                code.addStatement("return $L", JavaTypes.verdict(a.onFull()));
                code.endControlFlow();
            }
            case IrStmt.If i -> ifChain(i, code);
            case IrStmt.Encode e -> encode(e, code);
            case IrStmt.Return r -> code.addStatement("return $L", JavaTypes.verdict(r.verdict()));
        }
    }

    // ------------------------------------------------------------------ decode

    private void decode(IrStmt.Decode d, CodeBlock.Builder code) {
        code.add("// $L: decode, else $L\n", Comments.at(d.location()), d.onMalformed().keyword());
        lastComment = Comments.at(d.location());
        // The targets outlive the try block, so they are declared before it.
        for (DecodeOp op : d.ops()) {
            target(op).ifPresent(t -> code.addStatement("$T $N", javaType(t.type()), local(t)));
        }
        String caught = names.allocate("malformed");
        code.beginControlFlow("try");
        for (DecodeOp op : d.ops()) {
            code.add("$L;  // $L\n", decodeStep(op), Comments.at(op.location()));
        }
        // Inside the try: a message that decodes to zero bytes is malformed.
        code.addStatement("msg.endDecode()");
        code.nextControlFlow("catch ($T $N)", Malformed.class, caught);
        code.addStatement("return msg.malformed($L)", JavaTypes.verdict(d.onMalformed()));
        code.endControlFlow();
    }

    private static Optional<IrLocal> target(DecodeOp op) {
        return switch (op) {
            case DecodeOp.Decimal d -> Optional.of(d.target());
            case DecodeOp.VarBytes v -> Optional.of(v.target());
            case DecodeOp.FixedBytes f -> Optional.of(f.target());
            case DecodeOp.Until u -> Optional.of(u.target());
            case DecodeOp.IntField i -> Optional.of(i.target());
            case DecodeOp.Expect e -> Optional.empty();
            case DecodeOp.Skip s -> Optional.empty();
            case DecodeOp.SkipVar s -> Optional.empty();
            case DecodeOp.SkipUntil s -> Optional.empty();
            case DecodeOp.Require r -> Optional.empty();
            case DecodeOp.Frame f -> Optional.empty();
        };
    }

    private CodeBlock decodeStep(DecodeOp op) {
        return switch (op) {
            case DecodeOp.Expect e -> CodeBlock.of("msg.$L($N)", e.caseInsensitive() ? "expectIgnoreCase" : "expect",
                    constants.named(e.literal()));
            case DecodeOp.Skip s -> CodeBlock.of("msg.skip($L)", s.count());
            case DecodeOp.SkipVar s -> CodeBlock.of("msg.skip($L, $L)", exprs.emit(s.count()), s.max());
            case DecodeOp.SkipUntil s -> CodeBlock.of("msg.skipUntil($N, $L)", constants.named(s.delimiter()), s.max());
            case DecodeOp.Decimal d -> CodeBlock.of("$N = msg.decimal($L)", local(d.target()), d.maxDigits());
            case DecodeOp.VarBytes v -> CodeBlock.of("$N = msg.bytes($L, $L)", local(v.target()),
                    exprs.emit(v.length()), v.max());
            case DecodeOp.FixedBytes f -> f.offset().isPresent()
                    ? CodeBlock.of("$N = msg.bytesAt($L, $L)", local(f.target()), f.offset().getAsInt(), f.size())
                    : CodeBlock.of("$N = msg.bytes($L)", local(f.target()), f.size());
            case DecodeOp.Until u -> CodeBlock.of("$N = msg.until($N, $L)", local(u.target()),
                    constants.named(u.delimiter()), u.max());
            case DecodeOp.IntField i -> CodeBlock.of("$N = msg.$L", local(i.target()),
                    intRead(i.byteWidth(), i.order(), i.offset()));
            case DecodeOp.Require r -> CodeBlock.of("msg.require($L)", exprs.emit(r.condition()));
            case DecodeOp.Frame f -> CodeBlock.of("msg.frame($L, $L)", exprs.emit(f.length()), f.max());
        };
    }

    /** {@code u16be()}, {@code u32leAt(4)}; other widths through the generic reader. */
    private static CodeBlock intRead(int width, ByteOrder order, OptionalInt offset) {
        String named = JavaTypes.intMethod(width, order);
        if (named != null) {
            return offset.isPresent() ? CodeBlock.of("$LAt($L)", named, offset.getAsInt()) : CodeBlock.of("$L()", named);
        }
        return offset.isPresent()
                ? CodeBlock.of("uintAt($L, $L, $L)", offset.getAsInt(), width, JavaTypes.byteOrder(order))
                : CodeBlock.of("uint($L, $L)", width, JavaTypes.byteOrder(order));
    }

    // ------------------------------------------------------------------ maps

    private void lookup(IrStmt.Lookup l, CodeBlock.Builder code) {
        String target = local(l.target());
        boolean integer = l.target().type() instanceof IrType.Int;
        // An integer value arrives in the map's byte layout and is decoded once found.
        String raw = integer ? names.allocate(l.target().name() + "Bytes") : target;
        code.addStatement("$T $N = $N.lookup($L)", byte[].class, raw, field(l.map()), key(l.map(), l.key()));
        code.beginControlFlow("if ($N == null)", raw);
        code.addStatement("return $L", JavaTypes.verdict(l.onMiss()));
        code.endControlFlow();
        if (integer) {
            code.addStatement("long $N = $T.decodeInt($N)", target, MapLayout.class, raw);
        }
    }

    private CodeBlock key(IrMap map, IrExpr key) {
        return slot(map.keyType(), key);
    }

    private CodeBlock value(IrMap map, IrExpr value) {
        return slot(map.valueType(), value);
    }

    /** An expression in a map slot's canonical layout: integers little-endian in the slot's width. */
    private CodeBlock slot(IrType slot, IrExpr e) {
        if (slot instanceof IrType.Int i) {
            return CodeBlock.of("$T.encodeInt($L, $L)", MapLayout.class, exprs.emit(e), i.byteWidth());
        }
        return exprs.emit(e);
    }

    private String field(IrMap map) {
        return mapFields.get(map.name());
    }

    // ------------------------------------------------------------------ control flow and encode

    private void ifChain(IrStmt.If first, CodeBlock.Builder code) {
        lineComment(first.location(), code);
        code.beginControlFlow("if ($L)", exprs.emit(first.condition()));
        IrStmt.If current = first;
        while (true) {
            statements(current.then(), code);
            List<IrStmt> otherwise = current.otherwise();
            if (otherwise.isEmpty()) {
                break;
            }
            if (otherwise.size() == 1 && otherwise.getFirst() instanceof IrStmt.If next) {
                code.nextControlFlow("else if ($L)", exprs.emit(next.condition()));
                current = next;
                continue;
            }
            code.nextControlFlow("else");
            statements(otherwise, code);
            break;
        }
        code.endControlFlow();
    }

    private void encode(IrStmt.Encode e, CodeBlock.Builder code) {
        List<CodeBlock> calls = new ArrayList<>();
        for (EncodeItem item : e.items()) {
            calls.add(switch (item) {
                case EncodeItem.Literal l -> CodeBlock.of(".append($N)", constants.named(l.bytes()));
                case EncodeItem.Value v -> CodeBlock.of(".append($L)", exprs.emit(v.bytes()));
                case EncodeItem.Decimal d -> CodeBlock.of(".decimal($L)", exprs.emit(d.value()));
                case EncodeItem.IntBinary b -> {
                    String named = JavaTypes.intMethod(b.byteWidth(), b.order());
                    yield named != null
                            ? CodeBlock.of(".$L($L)", named, exprs.emit(b.value()))
                            : CodeBlock.of(".uint($L, $L, $L)", exprs.emit(b.value()), b.byteWidth(),
                                    JavaTypes.byteOrder(b.order()));
                }
            });
        }
        if (calls.isEmpty()) {
            code.add("// (encodes nothing)\n");
            return;
        }
        // One chain per encode statement; $Z lets long chains wrap between items.
        code.addStatement("out$L", CodeBlock.join(calls, "$Z"));
    }

    // ------------------------------------------------------------------ names and types

    private String local(IrLocal local) {
        return locals.get(local);
    }

    static TypeName javaType(IrType type) {
        return switch (type) {
            case IrType.Int i -> TypeName.LONG;
            case IrType.Bool b -> TypeName.BOOLEAN;
            case IrType.Bytes b -> TypeName.get(byte[].class);
        };
    }
}
