package dev.xps.compiler.ast;

import dev.xps.compiler.diag.SourceLocation;
import dev.xps.compiler.ir.ByteOrder;
import dev.xps.compiler.ir.IpPrefix;
import dev.xps.compiler.ir.MapKind;
import dev.xps.compiler.ir.Protocol;
import dev.xps.compiler.ir.Verdict;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/** All AST node types, grouped by family. Integer literals are u64 held in a {@code long}. */
public final class Ast {
    private Ast() {}

    public interface Node {
        SourceLocation location();
    }

    public record Name(String text, SourceLocation location) implements Node {
        @Override
        public String toString() {
            return text;
        }
    }

    public record Program(String file, List<Item> items) {}

    public sealed interface Item extends Node permits MapDecl, HandlerDecl, DispatchDecl, ConsensusDecl, TestDecl {}

    // ------------------------------------------------------------------ maps and types

    public record MapDecl(Name name, MapKind kind, List<TypeRef> types, long capacity, boolean stats,
                          SourceLocation location) implements Item {}

    public sealed interface TypeRef extends Node {}

    public record BytesTypeRef(long size, SourceLocation location) implements TypeRef {}

    public record IntTypeRef(int bits, SourceLocation location) implements TypeRef {}

    // ------------------------------------------------------------------ predicates

    public record PredicateAst(Protocol protocol, List<Clause> clauses, SourceLocation location) implements Node {}

    public sealed interface Clause extends Node {}

    public record PortRangeAst(long low, long high, SourceLocation location) implements Node {}

    public record DstPortClause(PortRangeAst ports, SourceLocation location) implements Clause {}

    public record SrcPortClause(PortRangeAst ports, SourceLocation location) implements Clause {}

    public record SrcAddressClause(IpPrefix prefix, SourceLocation location) implements Clause {}

    public record DstAddressClause(IpPrefix prefix, SourceLocation location) implements Clause {}

    // ------------------------------------------------------------------ handlers

    public record HandlerDecl(Name name, boolean write, Optional<PredicateAst> predicate, List<Stmt> body,
                              SourceLocation location) implements Item {}

    public sealed interface Stmt extends Node {}

    public record DecodeStmt(List<DecodeOp> ops, Verdict onMalformed, SourceLocation location) implements Stmt {}

    public record LetStmt(Name target, Expr value, SourceLocation location) implements Stmt {}

    public record LookupStmt(Name target, Name map, Expr key, Verdict onMiss, SourceLocation location) implements Stmt {}

    public record AppendStmt(Name target, Name map, Expr value, Verdict onFull, SourceLocation location) implements Stmt {}

    public record UpdateStmt(Name map, Expr key, Expr value, Optional<Verdict> onFull, SourceLocation location)
            implements Stmt {}

    public record DeleteStmt(Name map, Expr key, SourceLocation location) implements Stmt {}

    public record IfStmt(Expr condition, List<Stmt> then, Optional<List<Stmt>> otherwise, SourceLocation location)
            implements Stmt {}

    public record EncodeStmt(List<EncodeItem> items, SourceLocation location) implements Stmt {}

    public record ReturnStmt(Verdict verdict, SourceLocation location) implements Stmt {}

    // ------------------------------------------------------------------ decode

    public sealed interface DecodeOp extends Node {}

    public record ExpectOp(byte[] literal, boolean caseInsensitive, SourceLocation location) implements DecodeOp {}

    public record SkipOp(long count, SourceLocation location) implements DecodeOp {}

    public record SkipVarOp(Expr count, long max, SourceLocation location) implements DecodeOp {}

    public record SkipUntilOp(byte[] delimiter, long max, SourceLocation location) implements DecodeOp {}

    public record RequireOp(Expr condition, SourceLocation location) implements DecodeOp {}

    public record FrameOp(Expr length, long max, SourceLocation location) implements DecodeOp {}

    public record FieldOp(Name target, FieldSource source, SourceLocation location) implements DecodeOp {}

    public sealed interface FieldSource extends Node {}

    public record DecimalSource(long maxDigits, SourceLocation location) implements FieldSource {}

    public record VarBytesSource(Expr length, long max, SourceLocation location) implements FieldSource {}

    public record FixedBytesSource(long size, OptionalLong offset, SourceLocation location) implements FieldSource {}

    public record UntilSource(byte[] delimiter, long max, SourceLocation location) implements FieldSource {}

    public record IntSource(int byteWidth, ByteOrder order, OptionalLong offset, SourceLocation location)
            implements FieldSource {}

    // ------------------------------------------------------------------ encode

    public sealed interface EncodeItem extends Node {}

    public record LiteralItem(byte[] bytes, SourceLocation location) implements EncodeItem {}

    public record ValueItem(Name name, SourceLocation location) implements EncodeItem {}

    public record DecimalItem(Expr value, SourceLocation location) implements EncodeItem {}

    public record IntItem(int byteWidth, ByteOrder order, Expr value, SourceLocation location) implements EncodeItem {}

    // ------------------------------------------------------------------ expressions

    public sealed interface Expr extends Node {}

    public record IntLit(long value, SourceLocation location) implements Expr {}

    public record BytesLit(byte[] value, SourceLocation location) implements Expr {}

    public record BoolLit(boolean value, SourceLocation location) implements Expr {}

    public record NameRef(Name name, SourceLocation location) implements Expr {}

    public record LenCall(Expr operand, SourceLocation location) implements Expr {}

    public record NotExpr(Expr operand, SourceLocation location) implements Expr {}

    /** {@code op} is the operator as written: "+", "==", "and", ... */
    public record BinaryExpr(String op, Expr left, Expr right, SourceLocation location) implements Expr {}

    // ------------------------------------------------------------------ dispatch

    public record DispatchDecl(Name name, PredicateAst predicate, long offset, long length, ByteOrder order,
                               List<Arm> arms, SourceLocation location) implements Item {}

    public record Arm(Selector selector, ArmTarget target, SourceLocation location) implements Node {}

    public sealed interface Selector {}

    public record IntSelector(long value) implements Selector {}

    public record BytesSelector(byte[] value) implements Selector {}

    public record WildcardSelector() implements Selector {}

    public sealed interface ArmTarget {}

    public record HandlerTarget(Name handler) implements ArmTarget {}

    public record VerdictTarget(Verdict verdict) implements ArmTarget {}

    // ------------------------------------------------------------------ consensus

    public record ConsensusDecl(Name name, PredicateAst predicate, List<Setting> settings, SourceLocation location)
            implements Item {}

    public sealed interface Setting extends Node {}

    public record ReplicasSetting(long count, SourceLocation location) implements Setting {}

    public record LogSetting(long capacity, long entryBytes, SourceLocation location) implements Setting {}

    public record OrderAllSetting(SourceLocation location) implements Setting {}

    public record OrderWhenSetting(int byteWidth, ByteOrder order, long offset, List<Long> values,
                                   SourceLocation location) implements Setting {}

    public record FailureThresholdSetting(long multiple, SourceLocation location) implements Setting {}

    // ------------------------------------------------------------------ tests

    public record TestDecl(String name, List<TestStep> steps, SourceLocation location) implements Item {}

    public sealed interface TestStep extends Node {}

    public sealed interface TestValue {}

    public record IntValue(long value) implements TestValue {}

    public record BytesValue(byte[] value) implements TestValue {}

    public record SetupStep(Name map, TestValue key, TestValue value, SourceLocation location) implements TestStep {}

    public record AppendSetupStep(Name map, TestValue value, SourceLocation location) implements TestStep {}

    public record SendStep(Optional<Name> entry, byte[] payload, SourceLocation location) implements TestStep {}

    public record ExpectVerdictStep(Verdict verdict, Optional<byte[]> response, SourceLocation location)
            implements TestStep {}

    public record ExpectEntryStep(Name map, TestValue key, TestValue value, SourceLocation location)
            implements TestStep {}

    public record ExpectMissingStep(Name map, TestValue key, SourceLocation location) implements TestStep {}
}
