package dev.xps.compiler.parse;

import dev.xps.compiler.ast.Ast;
import dev.xps.compiler.ast.Ast.*;
import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.diag.SourceFile;
import dev.xps.compiler.diag.SourceLocation;
import dev.xps.compiler.ir.ByteOrder;
import dev.xps.compiler.ir.IpPrefix;
import dev.xps.compiler.ir.Ipv4Prefix;
import dev.xps.compiler.ir.Ipv6Prefix;
import dev.xps.compiler.ir.MapKind;
import dev.xps.compiler.ir.Protocol;
import dev.xps.compiler.ir.Verdict;
import dev.xps.grammar.XpsLexer;
import dev.xps.grammar.XpsParser;
import dev.xps.grammar.XpsParser.*;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.antlr.v4.runtime.ParserRuleContext;
import org.antlr.v4.runtime.Token;
import org.antlr.v4.runtime.tree.TerminalNode;

/**
 * Builds the AST from a parse tree that had no syntax errors. Literal problems (numbers out of
 * range, bad escapes, bad addresses) are reported here, at the literal, and replaced by a neutral
 * value so the rest of the file is still checked.
 */
final class AstBuilder {
    private final SourceFile source;
    private final Diagnostics diagnostics;

    AstBuilder(SourceFile source, Diagnostics diagnostics) {
        this.source = source;
        this.diagnostics = diagnostics;
    }

    Program program(ProgramContext ctx) {
        List<Item> items = new ArrayList<>();
        for (ItemContext item : ctx.item()) {
            items.add(item(item));
        }
        return new Program(source.name(), List.copyOf(items));
    }

    private Item item(ItemContext ctx) {
        if (ctx.mapDecl() != null) {
            return map(ctx.mapDecl());
        } else if (ctx.handlerDecl() != null) {
            return handler(ctx.handlerDecl());
        } else if (ctx.dispatchDecl() != null) {
            return dispatch(ctx.dispatchDecl());
        } else if (ctx.consensusDecl() != null) {
            return consensus(ctx.consensusDecl());
        }
        return test(ctx.testDecl());
    }

    // ------------------------------------------------------------------ maps

    private MapDecl map(MapDeclContext ctx) {
        MapKind kind = ctx.kind.HASH() != null ? MapKind.HASH : ctx.kind.ARRAY() != null ? MapKind.ARRAY : MapKind.LOG;
        List<TypeRef> types = new ArrayList<>();
        for (TypeContext t : ctx.types) {
            types.add(type(t));
        }
        return new MapDecl(name(ctx.name), kind, List.copyOf(types), integer(ctx.capacity), ctx.STATS() != null,
                loc(ctx));
    }

    private TypeRef type(TypeContext ctx) {
        if (ctx instanceof BytesTypeContext b) {
            return new BytesTypeRef(integer(b.size), loc(ctx));
        }
        return new IntTypeRef(intBits(((IntegerTypeContext) ctx).intType()), loc(ctx));
    }

    private static int intBits(IntTypeContext ctx) {
        if (ctx.U8() != null) {
            return 8;
        } else if (ctx.U16() != null) {
            return 16;
        } else if (ctx.U32() != null) {
            return 32;
        }
        return 64;
    }

    // ------------------------------------------------------------------ predicates

    private PredicateAst predicate(PredicateContext ctx) {
        Protocol protocol = ctx.proto.getType() == XpsParser.TCP ? Protocol.TCP : Protocol.UDP;
        List<Clause> clauses = new ArrayList<>();
        for (PredicateClauseContext c : ctx.clause) {
            clauses.add(switch (c) {
                case DstPortClauseContext d -> new DstPortClause(ports(d.portRange()), loc(c));
                case SrcPortClauseContext s -> new SrcPortClause(ports(s.portRange()), loc(c));
                case SrcAddrClauseContext s -> new SrcAddressClause(address(s.address), loc(c));
                case DstAddrClauseContext d -> new DstAddressClause(address(d.address), loc(c));
                default -> throw new IllegalStateException("predicate clause " + c.getClass());
            });
        }
        return new PredicateAst(protocol, List.copyOf(clauses), loc(ctx));
    }

    private PortRangeAst ports(PortRangeContext ctx) {
        long low = integer(ctx.lo);
        long high = ctx.hi != null ? integer(ctx.hi) : low;
        return new PortRangeAst(low, high, loc(ctx));
    }

    private IpPrefix address(Token token) {
        return token.getType() == XpsLexer.IPV6 ? ipv6(token) : ipv4(token);
    }

    /** An IPv6 literal, checked as the runtime parses it (dev.xps.runtime.Ipv6Prefix); host bits are an error. */
    private IpPrefix ipv6(Token token) {
        String text = token.getText();
        long[] b;
        try {
            b = dev.xps.runtime.Ipv6Prefix.bits(text);
        } catch (IllegalArgumentException e) {
            diagnostics.error(loc(token), text.length(), e.getMessage());
            return new Ipv6Prefix(0, 0, 0);
        }
        Ipv6Prefix result = new Ipv6Prefix(b[0], b[1], (int) b[2]);
        if (!result.isNetwork()) {
            diagnostics.error(loc(token), text.length(), text + " has host bits set; did you mean "
                    + result.network() + "?");
            return result.network();
        }
        return result;
    }

    private Ipv4Prefix ipv4(Token token) {
        String text = token.getText();
        String[] parts = text.split("/", 2);
        String[] octets = parts[0].split("\\.");
        long address = 0;
        for (String octet : octets) {
            long v = parseSmall(octet);
            if (v > 255) {
                diagnostics.error(loc(token), text.length(), "'" + cut(octet) + "' is not an IPv4 octet (0..255)");
                return new Ipv4Prefix(0, 0);
            }
            address = (address << 8) | v;
        }
        int prefix = 32;
        if (parts.length == 2) {
            long p = parseSmall(parts[1]);
            if (p > 32) {
                diagnostics.error(loc(token), text.length(), "prefix length /" + cut(parts[1]) + " is larger than 32");
                return new Ipv4Prefix(0, 0);
            }
            prefix = (int) p;
        }
        Ipv4Prefix result = new Ipv4Prefix(address, prefix);
        if ((address & ~result.mask() & 0xFFFF_FFFFL) != 0) {
            Ipv4Prefix network = new Ipv4Prefix(address & result.mask(), prefix);
            diagnostics.error(loc(token), text.length(), text + " has host bits set; did you mean " + network + "?");
            return network;
        }
        return result;
    }

    /** User text quoted in a message, cut when a pathological token is very long. */
    private static String cut(String text) {
        return text.length() > 30 ? text.substring(0, 27) + "..." : text;
    }

    private static long parseSmall(String digits) {
        return digits.length() > 6 ? Long.MAX_VALUE : Long.parseLong(digits);
    }

    // ------------------------------------------------------------------ handlers

    private HandlerDecl handler(HandlerDeclContext ctx) {
        Optional<PredicateAst> predicate = Optional.ofNullable(ctx.predicate()).map(this::predicate);
        return new HandlerDecl(name(ctx.name), ctx.WRITE() != null, predicate, block(ctx.block()), loc(ctx));
    }

    private List<Stmt> block(BlockContext ctx) {
        List<Stmt> out = new ArrayList<>();
        for (StatementContext s : ctx.statement()) {
            out.add(statement(s));
        }
        return List.copyOf(out);
    }

    private Stmt statement(StatementContext ctx) {
        return switch (ctx) {
            case DecodeStmtContext d -> {
                List<Ast.DecodeOp> ops = new ArrayList<>();
                for (DecodeOpContext op : d.decodeOp()) {
                    ops.add(decodeOp(op));
                }
                yield new DecodeStmt(List.copyOf(ops), verdict(d.verdict()), loc(ctx));
            }
            case LetStmtContext l -> new LetStmt(name(l.name), expr(l.expr()), loc(ctx));
            case LookupStmtContext l -> new LookupStmt(name(l.name), name(l.map), expr(l.key), verdict(l.verdict()),
                    loc(ctx));
            case AppendStmtContext a -> new AppendStmt(name(a.name), name(a.map), expr(a.value), verdict(a.verdict()),
                    loc(ctx));
            case UpdateStmtContext u -> new UpdateStmt(name(u.map), expr(u.key), expr(u.value),
                    Optional.ofNullable(u.verdict()).map(AstBuilder::verdict), loc(ctx));
            case DeleteStmtContext d -> new DeleteStmt(name(d.map), expr(d.key), loc(ctx));
            case IfStmtContext i -> ifStatement(i.ifStatement());
            case EncodeStmtContext e -> {
                List<Ast.EncodeItem> items = new ArrayList<>();
                for (EncodeItemContext item : e.encodeItem()) {
                    items.add(encodeItem(item));
                }
                yield new EncodeStmt(List.copyOf(items), loc(ctx));
            }
            case ReturnStmtContext r -> new ReturnStmt(verdict(r.verdict()), loc(ctx));
            default -> throw new IllegalStateException("statement " + ctx.getClass());
        };
    }

    private IfStmt ifStatement(IfStatementContext ctx) {
        Optional<List<Stmt>> otherwise = Optional.empty();
        if (ctx.otherwise != null) {
            otherwise = Optional.of(block(ctx.otherwise));
        } else if (ctx.elseIf != null) {
            otherwise = Optional.of(List.of(ifStatement(ctx.elseIf)));
        }
        return new IfStmt(expr(ctx.cond), block(ctx.then), otherwise, loc(ctx));
    }

    private static Verdict verdict(VerdictContext ctx) {
        if (ctx.TX() != null) {
            return Verdict.TX;
        } else if (ctx.DROP() != null) {
            return Verdict.DROP;
        } else if (ctx.PASS() != null) {
            return Verdict.PASS;
        }
        return Verdict.RESET;
    }

    private Ast.DecodeOp decodeOp(DecodeOpContext ctx) {
        return switch (ctx) {
            case ExpectOpContext e -> new ExpectOp(bytes(e.bytesLiteral()), false, loc(ctx));
            case ExpectCiOpContext e -> new ExpectOp(bytes(e.bytesLiteral()), true, loc(ctx));
            case SkipConstOpContext s -> new SkipOp(integer(s.count), loc(ctx));
            case SkipVarOpContext s -> new SkipVarOp(expr(s.amount), integer(s.max), loc(ctx));
            case SkipUntilOpContext s -> new SkipUntilOp(bytes(s.bytesLiteral()), integer(s.max), loc(ctx));
            case RequireOpContext r -> new RequireOp(expr(r.expr()), loc(ctx));
            case FrameOpContext f -> new FrameOp(expr(f.length), integer(f.max), loc(ctx));
            case FieldOpContext f -> new FieldOp(name(f.name), fieldSource(f.fieldSource()), loc(ctx));
            default -> throw new IllegalStateException("decode op " + ctx.getClass());
        };
    }

    private FieldSource fieldSource(FieldSourceContext ctx) {
        return switch (ctx) {
            case DecimalFieldContext d -> new DecimalSource(integer(d.digits), loc(ctx));
            case VarBytesFieldContext v -> new VarBytesSource(expr(v.length), integer(v.max), loc(ctx));
            case FixedBytesFieldContext f -> new FixedBytesSource(integer(f.size), offset(f.offset), loc(ctx));
            case UntilFieldContext u -> new UntilSource(bytes(u.bytesLiteral()), integer(u.max), loc(ctx));
            case IntFieldSourceContext i -> new IntSource(intFieldWidth(i.fieldType), intFieldOrder(i.fieldType),
                    offset(i.offset), loc(ctx));
            default -> throw new IllegalStateException("field source " + ctx.getClass());
        };
    }

    private OptionalLong offset(Token token) {
        return token == null ? OptionalLong.empty() : OptionalLong.of(integer(token));
    }

    private static int intFieldWidth(IntFieldContext ctx) {
        if (ctx.U8() != null) {
            return 1;
        } else if (ctx.U16BE() != null || ctx.U16LE() != null) {
            return 2;
        } else if (ctx.U32BE() != null || ctx.U32LE() != null) {
            return 4;
        }
        return 8;
    }

    private static ByteOrder intFieldOrder(IntFieldContext ctx) {
        return ctx.U16LE() != null || ctx.U32LE() != null || ctx.U64LE() != null ? ByteOrder.LITTLE : ByteOrder.BIG;
    }

    private Ast.EncodeItem encodeItem(EncodeItemContext ctx) {
        return switch (ctx) {
            case LiteralItemContext l -> new LiteralItem(bytes(l.bytesLiteral()), loc(ctx));
            case ValueItemContext v -> new ValueItem(name(v.ident()), loc(ctx));
            case DecimalItemContext d -> new DecimalItem(expr(d.expr()), loc(ctx));
            case IntItemContext i -> new IntItem(intFieldWidth(i.intField()), intFieldOrder(i.intField()),
                    expr(i.expr()), loc(ctx));
            default -> throw new IllegalStateException("encode item " + ctx.getClass());
        };
    }

    // ------------------------------------------------------------------ expressions

    private Expr expr(ExprContext ctx) {
        return switch (ctx) {
            case PrimaryExprContext p -> primary(p.primary());
            case NotExprContext n -> new NotExpr(expr(n.expr()), loc(ctx));
            // The location of a binary expression is its operator: that is what a type error is about.
            case BinaryExprContext b -> new BinaryExpr(b.op.getText(), expr(b.left), expr(b.right), loc(b.op));
            default -> throw new IllegalStateException("expression " + ctx.getClass());
        };
    }

    private Expr primary(PrimaryContext ctx) {
        return switch (ctx) {
            case IntLiteralContext i -> new IntLit(integer(i.INT().getSymbol()), loc(ctx));
            case BytesLiteralExprContext b -> new BytesLit(bytes(b.bytesLiteral()), loc(ctx));
            case BoolLiteralContext b -> new BoolLit(b.TRUE() != null, loc(ctx));
            case NameRefContext n -> new NameRef(name(n.ident()), loc(ctx));
            case LenCallContext l -> new LenCall(expr(l.expr()), loc(ctx));
            case ParenExprContext p -> expr(p.expr());
            default -> throw new IllegalStateException("primary " + ctx.getClass());
        };
    }

    // ------------------------------------------------------------------ dispatch

    private DispatchDecl dispatch(DispatchDeclContext ctx) {
        ByteOrder order = ctx.order != null && ctx.order.getType() == XpsParser.LE ? ByteOrder.LITTLE : ByteOrder.BIG;
        List<Arm> arms = new ArrayList<>();
        for (DispatchArmContext arm : ctx.dispatchArm()) {
            ArmSelectorContext s = arm.selector;
            Selector selector = s.UNDERSCORE() != null ? new WildcardSelector()
                    : s.INT() != null ? new IntSelector(integer(s.INT().getSymbol()))
                    : new BytesSelector(bytes(s.bytesLiteral()));
            ArmTarget target = arm.target.verdict() != null ? new VerdictTarget(verdict(arm.target.verdict()))
                    : new HandlerTarget(name(arm.target.ident()));
            arms.add(new Arm(selector, target, loc(arm)));
        }
        return new DispatchDecl(name(ctx.name), predicate(ctx.predicate()), integer(ctx.offset), integer(ctx.length),
                order, List.copyOf(arms), loc(ctx));
    }

    // ------------------------------------------------------------------ consensus

    private ConsensusDecl consensus(ConsensusDeclContext ctx) {
        List<Setting> settings = new ArrayList<>();
        for (ConsensusSettingContext s : ctx.consensusSetting()) {
            settings.add(switch (s) {
                case ReplicasSettingContext r -> new ReplicasSetting(integer(r.count), loc(s));
                case LogSettingContext l -> new LogSetting(integer(l.capacity), integer(l.entry), loc(s));
                case OrderAllSettingContext o -> new OrderAllSetting(loc(s));
                case OrderWhenSettingContext o -> {
                    List<Long> values = new ArrayList<>();
                    for (Token v : o.values) {
                        values.add(integer(v));
                    }
                    yield new OrderWhenSetting(intFieldWidth(o.field), intFieldOrder(o.field), integer(o.offset),
                            List.copyOf(values), loc(s));
                }
                case FailureThresholdSettingContext f -> new FailureThresholdSetting(integer(f.multiple), loc(s));
                default -> throw new IllegalStateException("consensus setting " + s.getClass());
            });
        }
        return new ConsensusDecl(name(ctx.name), predicate(ctx.predicate()), List.copyOf(settings), loc(ctx));
    }

    // ------------------------------------------------------------------ tests

    private TestDecl test(TestDeclContext ctx) {
        String name;
        try {
            name = new String(Literals.string(ctx.name.getText()), java.nio.charset.StandardCharsets.UTF_8);
        } catch (Literals.LiteralException e) {
            literalError(ctx.name, e);
            name = ctx.name.getText();
        }
        List<TestStep> steps = new ArrayList<>();
        for (TestStepContext s : ctx.testStep()) {
            steps.add(switch (s) {
                case SetupStepContext st -> new SetupStep(name(st.map), testValue(st.key), testValue(st.value), loc(s));
                case AppendSetupStepContext a -> new AppendSetupStep(name(a.map), testValue(a.value), loc(s));
                case SendStepContext send -> new SendStep(Optional.ofNullable(send.entry).map(this::name),
                        bytes(send.payload), loc(s));
                case ExpectVerdictStepContext e -> new ExpectVerdictStep(verdict(e.verdict()),
                        Optional.ofNullable(e.response).map(this::bytes), loc(s));
                case ExpectEntryStepContext e -> new ExpectEntryStep(name(e.map), testValue(e.key), testValue(e.value),
                        loc(s));
                case ExpectMissingStepContext e -> new ExpectMissingStep(name(e.map), testValue(e.key), loc(s));
                default -> throw new IllegalStateException("test step " + s.getClass());
            });
        }
        return new TestDecl(name, List.copyOf(steps), loc(ctx));
    }

    private TestValue testValue(TestValueContext ctx) {
        return ctx.INT() != null ? new IntValue(integer(ctx.INT().getSymbol())) : new BytesValue(bytes(ctx.bytesLiteral()));
    }

    // ------------------------------------------------------------------ tokens

    private Name name(IdentContext ctx) {
        return new Name(ctx.getText(), loc(ctx));
    }

    private long integer(Token token) {
        try {
            return Literals.integer(token.getText());
        } catch (Literals.LiteralException e) {
            diagnostics.error(loc(token), token.getText().length(), e.getMessage());
            return 0;
        }
    }

    private byte[] bytes(BytesLiteralContext ctx) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < ctx.getChildCount(); i++) {
            Token token = ((TerminalNode) ctx.getChild(i)).getSymbol();
            try {
                out.writeBytes(token.getType() == XpsParser.HEXSTRING ? Literals.hex(token.getText())
                        : Literals.string(token.getText()));
            } catch (Literals.LiteralException e) {
                literalError(token, e);
            }
        }
        return out.toByteArray();
    }

    /** Reports a literal's problem at the offending characters inside the token. */
    private void literalError(Token token, Literals.LiteralException e) {
        SourceLocation at = loc(token);
        diagnostics.error(source.at(at.line(), at.column() + e.offset), e.length, e.getMessage());
    }

    private SourceLocation loc(ParserRuleContext ctx) {
        return loc(ctx.getStart());
    }

    private SourceLocation loc(Token token) {
        return source.at(token.getLine(), token.getCharPositionInLine() + 1);
    }
}
