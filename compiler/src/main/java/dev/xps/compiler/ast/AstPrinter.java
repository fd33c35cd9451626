package dev.xps.compiler.ast;

import dev.xps.compiler.ast.Ast.*;
import dev.xps.compiler.ir.ByteOrder;
import dev.xps.compiler.ir.IpPrefix;
import dev.xps.runtime.Bytes;
import java.util.List;
import java.util.Locale;

/**
 * Prints an AST back as canonical .xps source: one statement per line, two-space indentation,
 * binary expressions fully parenthesised. Parsing the output gives the same AST again, which is
 * what the parser round-trip tests check.
 */
public final class AstPrinter {
    private final StringBuilder out = new StringBuilder();
    private int indent;

    private AstPrinter() {}

    public static String print(Program program) {
        AstPrinter p = new AstPrinter();
        for (Item item : program.items()) {
            p.item(item);
        }
        return p.out.toString();
    }

    private void item(Item item) {
        switch (item) {
            case MapDecl m -> line("map " + m.name() + " : " + m.kind().name().toLowerCase(Locale.ROOT) + "<"
                    + String.join(", ", m.types().stream().map(AstPrinter::type).toList()) + "> capacity "
                    + Long.toUnsignedString(m.capacity()) + (m.stats() ? " with stats" : "") + ";");
            case HandlerDecl h -> {
                open((h.write() ? "write " : "") + "handler " + h.name()
                        + h.predicate().map(p -> " " + predicate(p)).orElse(""));
                statements(h.body());
                close("}");
            }
            case DispatchDecl d -> {
                open("dispatch " + d.name() + " " + predicate(d.predicate()) + " at offset " + d.offset()
                        + " length " + d.length() + (d.order() == ByteOrder.LITTLE ? " le" : ""));
                for (Arm arm : d.arms()) {
                    String selector = switch (arm.selector()) {
                        case IntSelector i -> Long.toUnsignedString(i.value());
                        case BytesSelector b -> bytes(b.value());
                        case WildcardSelector w -> "_";
                    };
                    String target = switch (arm.target()) {
                        case HandlerTarget t -> t.handler().text();
                        case VerdictTarget v -> v.verdict().keyword();
                    };
                    line(selector + " => " + target + ";");
                }
                close("}");
            }
            case ConsensusDecl c -> {
                open("consensus " + c.name() + " " + predicate(c.predicate()));
                for (Setting s : c.settings()) {
                    line(switch (s) {
                        case ReplicasSetting r -> "replicas " + r.count() + ";";
                        case LogSetting l -> "log capacity " + Long.toUnsignedString(l.capacity()) + " entry "
                                + l.entryBytes() + ";";
                        case OrderAllSetting o -> "order all;";
                        case OrderWhenSetting o -> "order when " + intField(o.byteWidth(), o.order()) + " at "
                                + o.offset() + " in { " + String.join(", ", o.values().stream()
                                .map(Long::toUnsignedString).toList()) + " };";
                        case FailureThresholdSetting f -> "failure_threshold " + f.multiple() + ";";
                    });
                }
                close("}");
            }
            case TestDecl t -> {
                open("test " + bytes(t.name().getBytes(java.nio.charset.StandardCharsets.UTF_8)));
                for (TestStep s : t.steps()) {
                    line(switch (s) {
                        case SetupStep st -> st.map() + "[" + value(st.key()) + "] = " + value(st.value()) + ";";
                        case AppendSetupStep a -> "append " + a.map() + " " + value(a.value()) + ";";
                        case SendStep send -> "send " + send.entry().map(e -> "to " + e + " ").orElse("")
                                + bytes(send.payload()) + ";";
                        case ExpectVerdictStep e -> "expect " + e.verdict().keyword()
                                + e.response().map(r -> " " + bytes(r)).orElse("") + ";";
                        case ExpectEntryStep e -> "expect " + e.map() + "[" + value(e.key()) + "] == "
                                + value(e.value()) + ";";
                        case ExpectMissingStep e -> "expect missing " + e.map() + "[" + value(e.key()) + "];";
                    });
                }
                close("}");
            }
        }
        out.append('\n');
    }

    private void statements(List<Stmt> body) {
        for (Stmt s : body) {
            switch (s) {
                case DecodeStmt d -> {
                    open("decode");
                    for (DecodeOp op : d.ops()) {
                        line(decodeOp(op));
                    }
                    close("} else " + d.onMalformed().keyword() + ";");
                }
                case LetStmt l -> line("let " + l.target() + " = " + expr(l.value()) + ";");
                case LookupStmt l -> line(l.target() + " = lookup " + l.map() + "[" + expr(l.key()) + "] else "
                        + l.onMiss().keyword() + ";");
                case AppendStmt a -> line(a.target() + " = append " + a.map() + " " + expr(a.value()) + " else "
                        + a.onFull().keyword() + ";");
                case UpdateStmt u -> line("update " + u.map() + "[" + expr(u.key()) + "] = " + expr(u.value())
                        + u.onFull().map(v -> " else " + v.keyword()).orElse("") + ";");
                case DeleteStmt d -> line("delete " + d.map() + "[" + expr(d.key()) + "];");
                case IfStmt i -> ifStatement(i, "if ");
                case EncodeStmt e -> line("encode { " + String.join(" ", e.items().stream()
                        .map(AstPrinter::encodeItem).toList()) + " }");
                case ReturnStmt r -> line("return " + r.verdict().keyword() + ";");
            }
        }
    }

    private void ifStatement(IfStmt i, String prefix) {
        open(prefix + expr(i.condition()));
        statements(i.then());
        if (i.otherwise().isEmpty()) {
            close("}");
            return;
        }
        List<Stmt> otherwise = i.otherwise().get();
        indent--;
        if (otherwise.size() == 1 && otherwise.getFirst() instanceof IfStmt elseIf) {
            ifStatement(elseIf, "} else if ");
            return;
        }
        line("} else {");
        indent++;
        statements(otherwise);
        close("}");
    }

    private static String decodeOp(DecodeOp op) {
        return switch (op) {
            case ExpectOp e -> (e.caseInsensitive() ? "expect_ci " : "expect ") + bytes(e.literal()) + ";";
            case SkipOp s -> "skip " + Long.toUnsignedString(s.count()) + ";";
            case SkipVarOp s -> "skip(" + expr(s.count()) + ") max " + Long.toUnsignedString(s.max()) + ";";
            case SkipUntilOp s -> "skip_until " + bytes(s.delimiter()) + " max " + Long.toUnsignedString(s.max()) + ";";
            case RequireOp r -> "require " + expr(r.condition()) + ";";
            case FrameOp f -> "frame " + expr(f.length()) + " max " + Long.toUnsignedString(f.max()) + ";";
            case FieldOp f -> f.target() + " = " + switch (f.source()) {
                case DecimalSource d -> "decimal max " + Long.toUnsignedString(d.maxDigits()) + " digits";
                case VarBytesSource v -> "bytes(" + expr(v.length()) + ") max " + Long.toUnsignedString(v.max());
                case FixedBytesSource b -> "bytes[" + Long.toUnsignedString(b.size()) + "]"
                        + (b.offset().isPresent() ? " at " + Long.toUnsignedString(b.offset().getAsLong()) : "");
                case UntilSource u -> "until " + bytes(u.delimiter()) + " max " + Long.toUnsignedString(u.max());
                case IntSource i -> intField(i.byteWidth(), i.order())
                        + (i.offset().isPresent() ? " at " + Long.toUnsignedString(i.offset().getAsLong()) : "");
            } + ";";
        };
    }

    private static String encodeItem(EncodeItem item) {
        return switch (item) {
            case LiteralItem l -> bytes(l.bytes());
            case ValueItem v -> v.name().text();
            case DecimalItem d -> "decimal(" + expr(d.value()) + ")";
            case IntItem i -> intField(i.byteWidth(), i.order()) + "(" + expr(i.value()) + ")";
        };
    }

    static String expr(Expr e) {
        return switch (e) {
            case IntLit i -> Long.toUnsignedString(i.value());
            case BytesLit b -> bytes(b.value());
            case BoolLit b -> Boolean.toString(b.value());
            case NameRef n -> n.name().text();
            case LenCall l -> "len(" + expr(l.operand()) + ")";
            case NotExpr n -> "not " + expr(n.operand());
            case BinaryExpr b -> "(" + expr(b.left()) + " " + b.op() + " " + expr(b.right()) + ")";
        };
    }

    private static String predicate(PredicateAst p) {
        StringBuilder s = new StringBuilder("on ").append(p.protocol().name().toLowerCase(Locale.ROOT));
        for (Clause c : p.clauses()) {
            s.append(' ').append(switch (c) {
                case DstPortClause d -> "port " + ports(d.ports());
                case SrcPortClause sp -> "sport " + ports(sp.ports());
                case SrcAddressClause a -> "from " + prefix(a.prefix());
                case DstAddressClause a -> "to " + prefix(a.prefix());
            });
        }
        return s.toString();
    }

    private static String ports(PortRangeAst r) {
        return r.low() == r.high() ? Long.toString(r.low()) : r.low() + ".." + r.high();
    }

    private static String prefix(IpPrefix p) {
        return p.toString();
    }

    private static String type(TypeRef t) {
        return switch (t) {
            case BytesTypeRef b -> "bytes[" + Long.toUnsignedString(b.size()) + "]";
            case IntTypeRef i -> "u" + i.bits();
        };
    }

    private static String intField(int byteWidth, ByteOrder order) {
        if (byteWidth == 1) {
            return "u8";
        }
        return "u" + (byteWidth * 8) + (order == ByteOrder.BIG ? "be" : "le");
    }

    private static String value(TestValue v) {
        return switch (v) {
            case IntValue i -> Long.toUnsignedString(i.value());
            case BytesValue b -> bytes(b.value());
        };
    }

    /** A string literal that reads back as exactly these bytes. */
    public static String bytes(byte[] value) {
        return "\"" + Bytes.escape(value) + "\"";
    }

    private void open(String header) {
        line(header + " {");
        indent++;
    }

    private void close(String text) {
        indent--;
        line(text);
    }

    private void line(String text) {
        out.append("  ".repeat(Math.max(0, indent))).append(text).append('\n');
    }
}
