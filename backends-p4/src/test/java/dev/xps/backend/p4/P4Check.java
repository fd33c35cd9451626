package dev.xps.backend.p4;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.antlr.v4.runtime.BaseErrorListener;
import org.antlr.v4.runtime.CharStreams;
import org.antlr.v4.runtime.CommonTokenStream;
import org.antlr.v4.runtime.RecognitionException;
import org.antlr.v4.runtime.Recognizer;
import org.antlr.v4.runtime.Token;

/**
 * Parses generated P4 with the {@code P4Subset} grammar and checks that every header, struct,
 * constant, action, table, instance, local and parser state is declared before it is used, and
 * that member accesses on headers and structs name real fields. Not p4c: no type checking of
 * widths, no architecture checks.
 */
final class P4Check {
    private final List<String> problems = new ArrayList<>();
    /** struct/header name → field → type text. */
    private final Map<String, Map<String, String>> types = new HashMap<>();
    private final Map<String, String> globals = new LinkedHashMap<>();
    private final Deque<Map<String, String>> scopes = new ArrayDeque<>();

    private static final Set<String> BUILTINS = Set.of("mark_to_drop", "truncate", "update_checksum",
            "CounterType", "HashAlgorithm", "accept", "reject", "packet_in", "packet_out", "standard_metadata_t",
            "register", "counter", "direct_counter", "V1Switch");
    private static final Set<String> STD_FIELDS = Set.of("ingress_port", "egress_spec", "egress_port",
            "parser_error", "packet_length", "instance_type");
    private static final Set<String> METHODS = Set.of("isValid", "setValid", "setInvalid", "next", "last",
            "pop_front", "push_front", "apply", "extract", "emit", "read", "write", "count", "lastIndex", "nextIndex",
            "lookahead", "advance");

    static List<String> check(String p4) {
        P4Check c = new P4Check();
        c.run(p4);
        return c.problems;
    }

    private void run(String p4) {
        P4SubsetLexer lexer = new P4SubsetLexer(CharStreams.fromString(p4));
        P4SubsetParser parser = new P4SubsetParser(new CommonTokenStream(lexer));
        BaseErrorListener errors = new BaseErrorListener() {
            @Override
            public void syntaxError(Recognizer<?, ?> r, Object symbol, int line, int col, String msg,
                                    RecognitionException e) {
                problems.add(line + ":" + col + ": syntax: " + msg);
            }
        };
        lexer.removeErrorListeners();
        lexer.addErrorListener(errors);
        parser.removeErrorListeners();
        parser.addErrorListener(errors);
        P4SubsetParser.ProgramContext program = parser.program();
        if (!problems.isEmpty()) {
            return;
        }
        for (P4SubsetParser.DeclarationContext d : program.declaration()) {
            declaration(d);
        }
    }

    private void problem(Token at, String message) {
        problems.add(at.getLine() + ":" + at.getCharPositionInLine() + ": " + message);
    }

    private void declare(Map<String, String> scope, Token name, String type) {
        if (scope.containsKey(name.getText())) {
            problem(name, "'" + name.getText() + "' is declared twice");
        }
        scope.put(name.getText(), type);
    }

    private void declaration(P4SubsetParser.DeclarationContext d) {
        if (d.constDecl() != null) {
            typeRef(d.constDecl().typeRef());
            expression(d.constDecl().expression());
            declare(globals, d.constDecl().NAME().getSymbol(), text(d.constDecl().typeRef()));
        } else if (d.headerDecl() != null || d.structDecl() != null) {
            Token name = d.headerDecl() != null ? d.headerDecl().NAME().getSymbol() : d.structDecl().NAME().getSymbol();
            List<P4SubsetParser.FieldContext> fields = d.headerDecl() != null ? d.headerDecl().field()
                    : d.structDecl().field();
            Map<String, String> f = new LinkedHashMap<>();
            for (P4SubsetParser.FieldContext field : fields) {
                typeRef(field.typeRef());
                declare(f, field.NAME().getSymbol(), text(field.typeRef()));
            }
            declare(globals, name, d.headerDecl() != null ? "header" : "struct");
            types.put(name.getText(), f);
        } else if (d.externFunction() != null) {
            declare(globals, d.externFunction().NAME().getSymbol(), "function");
        } else if (d.instantiation() != null) {
            instantiation(d.instantiation(), globals);
        } else if (d.parserDecl() != null) {
            parserDecl(d.parserDecl());
        } else if (d.controlDecl() != null) {
            controlDecl(d.controlDecl());
        }
    }

    private void instantiation(P4SubsetParser.InstantiationContext i, Map<String, String> scope) {
        typeRef(i.typeRef());
        if (i.argumentList() != null) {
            i.argumentList().expression().forEach(this::expression);
        }
        declare(scope, i.NAME().getSymbol(), "instance " + text(i.typeRef()));
    }

    private void typeRef(P4SubsetParser.TypeRefContext t) {
        switch (t) {
            case P4SubsetParser.NamedTypeContext n -> {
                if (!globals.containsKey(n.NAME().getText()) && !BUILTINS.contains(n.NAME().getText())) {
                    problem(n.NAME().getSymbol(), "type '" + n.NAME().getText() + "' is not declared before use");
                }
            }
            case P4SubsetParser.StackTypeContext s -> typeRef(s.typeRef());
            case P4SubsetParser.GenericTypeContext g -> typeRef(g.typeRef());
            default -> { }
        }
    }

    private void parserDecl(P4SubsetParser.ParserDeclContext p) {
        declare(globals, p.NAME().getSymbol(), "parser");
        Set<String> states = new HashSet<>();
        for (P4SubsetParser.ParserStateContext s : p.parserState()) {
            if (!states.add(s.NAME().getText())) {
                problem(s.NAME().getSymbol(), "state '" + s.NAME().getText() + "' is declared twice");
            }
        }
        if (!states.contains("start")) {
            problem(p.NAME().getSymbol(), "parser has no start state");
        }
        scopes.push(params(p.parameterList()));
        for (P4SubsetParser.ParserStateContext s : p.parserState()) {
            for (P4SubsetParser.ParserStatementContext st : s.parserStatement()) {
                if (st.assignment() != null) {
                    st.assignment().expression().forEach(this::expression);
                } else {
                    expression(st.expression());
                }
            }
            List<Token> targets = new ArrayList<>();
            switch (s.transition()) {
                case P4SubsetParser.DirectTransitionContext d -> targets.add(d.NAME().getSymbol());
                case P4SubsetParser.SelectTransitionContext sel -> {
                    sel.argumentList().expression().forEach(this::expression);
                    for (P4SubsetParser.SelectCaseContext c : sel.selectCase()) {
                        targets.add(c.NAME().getSymbol());
                    }
                }
                default -> { }
            }
            for (Token t : targets) {
                if (!states.contains(t.getText()) && !t.getText().equals("accept") && !t.getText().equals("reject")) {
                    problem(t, "transition to undeclared state '" + t.getText() + "'");
                }
            }
        }
        scopes.pop();
    }

    private Map<String, String> params(P4SubsetParser.ParameterListContext list) {
        Map<String, String> scope = new LinkedHashMap<>();
        if (list != null) {
            for (P4SubsetParser.ParameterContext p : list.parameter()) {
                typeRef(p.typeRef());
                declare(scope, p.NAME().getSymbol(), text(p.typeRef()));
            }
        }
        return scope;
    }

    private void controlDecl(P4SubsetParser.ControlDeclContext c) {
        declare(globals, c.NAME().getSymbol(), "control");
        Map<String, String> locals = params(c.parameterList());
        scopes.push(locals);
        for (P4SubsetParser.ControlLocalContext l : c.controlLocal()) {
            if (l.variableDecl() != null) {
                variableDecl(l.variableDecl(), locals);
            } else if (l.instantiation() != null) {
                instantiation(l.instantiation(), locals);
            } else if (l.actionDecl() != null) {
                P4SubsetParser.ActionDeclContext a = l.actionDecl();
                declare(locals, a.NAME().getSymbol(), "action");
                scopes.push(params(a.parameterList()));
                block(a.block());
                scopes.pop();
            } else if (l.tableDecl() != null) {
                table(l.tableDecl(), locals);
            }
        }
        block(c.block());
        scopes.pop();
    }

    private void table(P4SubsetParser.TableDeclContext t, Map<String, String> locals) {
        for (P4SubsetParser.TablePropertyContext p : t.tableProperty()) {
            switch (p) {
                case P4SubsetParser.KeyPropertyContext k -> k.keyElement().forEach(e -> expression(e.expression()));
                case P4SubsetParser.ActionsPropertyContext a -> a.NAME().forEach(n -> requireKind(n.getSymbol(),
                        "action"));
                case P4SubsetParser.DefaultActionPropertyContext d -> requireKind(d.NAME().getSymbol(), "action");
                case P4SubsetParser.CountersPropertyContext c -> requireKind(c.NAME().getSymbol(), "instance");
                case P4SubsetParser.SizePropertyContext s -> expression(s.expression());
                default -> { }
            }
        }
        declare(locals, t.NAME().getSymbol(), "table");
    }

    private void requireKind(Token name, String kind) {
        String k = lookup(name.getText());
        if (k == null || !k.startsWith(kind)) {
            problem(name, kind + " '" + name.getText() + "' is not declared before use");
        }
    }

    private void block(P4SubsetParser.BlockContext b) {
        scopes.push(new LinkedHashMap<>());
        for (P4SubsetParser.StatementContext s : b.statement()) {
            statement(s);
        }
        scopes.pop();
    }

    private void statement(P4SubsetParser.StatementContext s) {
        if (s.variableDecl() != null) {
            variableDecl(s.variableDecl(), scopes.peek());
        } else if (s.assignment() != null) {
            s.assignment().expression().forEach(this::expression);
        } else if (s.expression() != null) {
            expression(s.expression());
        } else if (s.ifStatement() != null) {
            ifStatement(s.ifStatement());
        } else if (s.block() != null) {
            block(s.block());
        }
    }

    private void ifStatement(P4SubsetParser.IfStatementContext i) {
        expression(i.expression());
        block(i.block(0));
        if (i.ifStatement() != null) {
            ifStatement(i.ifStatement());
        } else if (i.block().size() > 1) {
            block(i.block(1));
        }
    }

    private void variableDecl(P4SubsetParser.VariableDeclContext v, Map<String, String> scope) {
        typeRef(v.typeRef());
        if (v.expression() != null) {
            expression(v.expression());
        }
        declare(scope, v.NAME().getSymbol(), text(v.typeRef()));
    }

    private String lookup(String name) {
        for (Map<String, String> scope : scopes) {
            if (scope.containsKey(name)) {
                return scope.get(name);
            }
        }
        return globals.get(name);
    }

    /** Checks an expression; returns the type text of a name or member chain when known. */
    private String expression(P4SubsetParser.ExpressionContext e) {
        switch (e) {
            case P4SubsetParser.PrimaryExprContext p -> {
                P4SubsetParser.PrimaryContext primary = p.primary();
                if (primary.NAME() != null) {
                    String name = primary.NAME().getText();
                    String type = lookup(name);
                    if (type == null && !BUILTINS.contains(name)) {
                        problem(primary.NAME().getSymbol(), "'" + name + "' is not declared before use");
                    }
                    return type;
                }
                if (primary.expression() != null) {
                    return expression(primary.expression());
                }
                if (primary.argumentList() != null) {
                    primary.argumentList().expression().forEach(this::expression);
                }
                return null;
            }
            case P4SubsetParser.MemberExprContext m -> {
                String base = expression(m.expression());
                String member = m.NAME() != null ? m.NAME().getText() : "apply";
                return member(base, member, m.getStop());
            }
            case P4SubsetParser.IndexExprContext i -> {
                String base = expression(i.expression(0));
                expression(i.expression(1));
                return base != null && base.endsWith("]") ? base.substring(0, base.lastIndexOf('[')) : null;
            }
            case P4SubsetParser.CallExprContext c -> {
                expression(c.expression());
                if (c.argumentList() != null) {
                    c.argumentList().expression().forEach(this::expression);
                }
                return null;
            }
            case P4SubsetParser.CastExprContext c -> {
                typeRef(c.typeRef());
                expression(c.expression());
                return text(c.typeRef());
            }
            default -> {
                for (int k = 0; k < e.getChildCount(); k++) {
                    if (e.getChild(k) instanceof P4SubsetParser.ExpressionContext sub) {
                        expression(sub);
                    }
                }
                return null;
            }
        }
    }

    private String member(String baseType, String member, Token at) {
        if (baseType == null) {
            return null;
        }
        if (baseType.equals("standard_metadata_t")) {
            if (!STD_FIELDS.contains(member)) {
                problem(at, "standard_metadata_t has no field '" + member + "'");
            }
            return null;
        }
        if (baseType.endsWith("]")) {
            if (!METHODS.contains(member)) {
                problem(at, "header stack has no member '" + member + "'");
            }
            return member.equals("next") || member.equals("last") ? baseType.substring(0, baseType.lastIndexOf('['))
                    : null;
        }
        Map<String, String> fields = types.get(baseType);
        if (fields == null) {
            return null;  // an extern, a table, a control instance: methods are p4c's business
        }
        if (fields.containsKey(member)) {
            return fields.get(member);
        }
        if (!METHODS.contains(member)) {
            problem(at, baseType + " has no field '" + member + "'");
        }
        return null;
    }

    private static String text(P4SubsetParser.TypeRefContext t) {
        return switch (t) {
            case P4SubsetParser.NamedTypeContext n -> n.NAME().getText();
            case P4SubsetParser.StackTypeContext s -> text(s.typeRef()) + "[" + s.INT().getText() + "]";
            default -> t.getText();
        };
    }
}
