// The .xps language: bounded fast-path handlers for network services.
// Every length and every repetition is bounded in the source (see docs/language.md).
// This grammar only builds a parse tree; the compiler's AstBuilder turns it into the AST
// and all checking (names, types, bounds) happens there and in semantic analysis.
grammar Xps;

program : item* EOF ;

item
    : mapDecl
    | handlerDecl
    | dispatchDecl
    | consensusDecl
    | testDecl
    ;

// ---------------------------------------------------------------- maps
mapDecl
    : MAP name=ident COLON kind=mapKind LT types+=type (COMMA types+=type)* GT
      CAPACITY capacity=INT (WITH STATS)? SEMI
    ;
mapKind : HASH | ARRAY | LOG ;
type    : BYTES LBRACK size=INT RBRACK   # bytesType
        | intType                        # integerType
        ;
intType : U8 | U16 | U32 | U64 ;

// ---------------------------------------------------------------- handlers
handlerDecl : WRITE? HANDLER name=ident predicate? block ;

predicate : ON proto=(TCP | UDP) clause+=predicateClause* ;
predicateClause
    : PORT portRange                     # dstPortClause
    | SPORT portRange                    # srcPortClause
    | FROM address=(IPV4 | IPV6)         # srcAddrClause
    | TO address=(IPV4 | IPV6)           # dstAddrClause
    ;
portRange : lo=INT (DOTDOT hi=INT)? ;

block : LBRACE statement* RBRACE ;

statement
    : DECODE LBRACE decodeOp* RBRACE ELSE verdict SEMI                       # decodeStmt
    | LET name=ident ASSIGN expr SEMI                                          # letStmt
    | name=ident ASSIGN LOOKUP map=ident LBRACK key=expr RBRACK ELSE verdict SEMI  # lookupStmt
    | name=ident ASSIGN APPEND map=ident value=expr ELSE verdict SEMI        # appendStmt
    | UPDATE map=ident LBRACK key=expr RBRACK ASSIGN value=expr (ELSE verdict)? SEMI # updateStmt
    | DELETE map=ident LBRACK key=expr RBRACK SEMI                             # deleteStmt
    | ifStatement                                                              # ifStmt
    | ENCODE LBRACE encodeItem* RBRACE                                         # encodeStmt
    | RETURN verdict SEMI                                                      # returnStmt
    ;

ifStatement : IF cond=expr then=block (ELSE (otherwise=block | elseIf=ifStatement))? ;

verdict : TX | DROP | PASS | RESET ;

decodeOp
    : EXPECT bytesLiteral SEMI                                   # expectOp
    | EXPECT_CI bytesLiteral SEMI                                # expectCiOp
    | SKIP_ count=INT SEMI                                       # skipConstOp
    | SKIP_ LPAREN amount=expr RPAREN MAX max=INT SEMI           # skipVarOp
    | SKIP_UNTIL bytesLiteral MAX max=INT SEMI                   # skipUntilOp
    | REQUIRE expr SEMI                                          # requireOp
    | FRAME length=expr MAX max=INT SEMI                         # frameOp
    | name=ident ASSIGN fieldSource SEMI                         # fieldOp
    ;

fieldSource
    : DECIMAL MAX digits=INT DIGITS                              # decimalField
    | BYTES LPAREN length=expr RPAREN MAX max=INT                # varBytesField
    | BYTES LBRACK size=INT RBRACK (AT offset=INT)?              # fixedBytesField
    | UNTIL bytesLiteral MAX max=INT                             # untilField
    | fieldType=intField (AT offset=INT)?                        # intFieldSource
    ;
intField : U8 | U16BE | U16LE | U32BE | U32LE | U64BE | U64LE ;

encodeItem
    : bytesLiteral                                               # literalItem
    | ident                                                      # valueItem
    | DECIMAL LPAREN expr RPAREN                                 # decimalItem
    | intField LPAREN expr RPAREN                                # intItem
    ;

// ---------------------------------------------------------------- expressions
expr
    : primary                                                    # primaryExpr
    | NOT expr                                                   # notExpr
    | left=expr op=STAR right=expr                               # binaryExpr
    | left=expr op=(PLUS | MINUS) right=expr                     # binaryExpr
    | left=expr op=(SHL | SHR) right=expr                        # binaryExpr
    | left=expr op=AMP right=expr                                # binaryExpr
    | left=expr op=CARET right=expr                              # binaryExpr
    | left=expr op=PIPE right=expr                               # binaryExpr
    | left=expr op=(EQ | NE | LT | LTE | GT | GTE) right=expr      # binaryExpr
    | left=expr op=AND right=expr                                # binaryExpr
    | left=expr op=OR right=expr                                 # binaryExpr
    ;

primary
    : INT                                                        # intLiteral
    | bytesLiteral                                               # bytesLiteralExpr
    | (TRUE | FALSE)                                             # boolLiteral
    | ident                                                      # nameRef
    | LEN LPAREN expr RPAREN                                     # lenCall
    | LPAREN expr RPAREN                                         # parenExpr
    ;

// Words that are keywords only where they appear in a declaration can still name things.
ident : IDENT | LENGTH | OFFSET | ENTRY | ORDER | ALL | WHEN | IN | STATS | DIGITS | CAPACITY
      | REPLICAS | MISSING ;

// Adjacent string and hex literals concatenate: "ab" x"00ff" "cd".
bytesLiteral : (STRING | HEXSTRING)+ ;

// ---------------------------------------------------------------- dispatch
dispatchDecl
    : DISPATCH name=ident predicate AT OFFSET offset=INT LENGTH length=INT order=(BE | LE)?
      LBRACE dispatchArm+ RBRACE
    ;
dispatchArm : selector=armSelector ARROW target=armTarget SEMI ;
armSelector : INT | bytesLiteral | UNDERSCORE ;
armTarget   : ident | verdict ;

// ---------------------------------------------------------------- consensus
consensusDecl : CONSENSUS name=ident predicate LBRACE consensusSetting* RBRACE ;
consensusSetting
    : REPLICAS count=INT SEMI                                           # replicasSetting
    | LOG CAPACITY capacity=INT ENTRY entry=INT SEMI                    # logSetting
    | ORDER ALL SEMI                                                    # orderAllSetting
    | ORDER WHEN field=intField AT offset=INT IN LBRACE values+=INT (COMMA values+=INT)* RBRACE SEMI # orderWhenSetting
    | FAILURE_THRESHOLD multiple=INT SEMI                               # failureThresholdSetting
    ;

// ---------------------------------------------------------------- tests
testDecl : TEST name=STRING LBRACE testStep* RBRACE ;
testStep
    : map=ident LBRACK key=testValue RBRACK ASSIGN value=testValue SEMI     # setupStep
    | APPEND map=ident value=testValue SEMI                                 # appendSetupStep
    | SEND (TO entry=ident)? payload=bytesLiteral SEMI                      # sendStep
    | EXPECT verdict response=bytesLiteral? SEMI                            # expectVerdictStep
    | EXPECT map=ident LBRACK key=testValue RBRACK EQ value=testValue SEMI  # expectEntryStep
    | EXPECT MISSING map=ident LBRACK key=testValue RBRACK SEMI             # expectMissingStep
    ;
testValue : INT | bytesLiteral ;

// ---------------------------------------------------------------- lexer
MAP: 'map'; HASH: 'hash'; ARRAY: 'array'; LOG: 'log'; CAPACITY: 'capacity'; WITH: 'with';
STATS: 'stats'; BYTES: 'bytes'; U8: 'u8'; U16: 'u16'; U32: 'u32'; U64: 'u64';
U16BE: 'u16be'; U16LE: 'u16le'; U32BE: 'u32be'; U32LE: 'u32le'; U64BE: 'u64be'; U64LE: 'u64le';
WRITE: 'write'; HANDLER: 'handler'; ON: 'on'; TCP: 'tcp'; UDP: 'udp'; PORT: 'port';
SPORT: 'sport'; FROM: 'from'; TO: 'to'; DECODE: 'decode'; ELSE: 'else'; LET: 'let';
LOOKUP: 'lookup'; APPEND: 'append'; UPDATE: 'update'; DELETE: 'delete'; IF: 'if';
ENCODE: 'encode'; RETURN: 'return'; TX: 'tx'; DROP: 'drop'; PASS: 'pass'; RESET: 'reset';
EXPECT: 'expect'; EXPECT_CI: 'expect_ci'; SKIP_: 'skip'; SKIP_UNTIL: 'skip_until';
REQUIRE: 'require'; FRAME: 'frame'; DECIMAL: 'decimal'; MAX: 'max'; DIGITS: 'digits';
UNTIL: 'until'; AT: 'at'; NOT: 'not'; AND: 'and'; OR: 'or'; TRUE: 'true'; FALSE: 'false';
LEN: 'len'; DISPATCH: 'dispatch'; OFFSET: 'offset'; LENGTH: 'length'; BE: 'be'; LE: 'le';
CONSENSUS: 'consensus'; REPLICAS: 'replicas'; ENTRY: 'entry'; ORDER: 'order'; ALL: 'all';
WHEN: 'when'; IN: 'in'; FAILURE_THRESHOLD: 'failure_threshold'; TEST: 'test'; SEND: 'send';
MISSING: 'missing';

ARROW: '=>'; EQ: '=='; NE: '!='; LTE: '<='; GTE: '>=';
SHL: '<<'; SHR: '>>'; LT: '<'; GT: '>'; ASSIGN: '='; PLUS: '+'; MINUS: '-'; STAR: '*';
AMP: '&'; PIPE: '|'; CARET: '^'; LPAREN: '('; RPAREN: ')'; LBRACE: '{'; RBRACE: '}';
LBRACK: '['; RBRACK: ']'; COMMA: ','; SEMI: ';'; COLON: ':'; DOTDOT: '..'; UNDERSCORE: '_';

// An IPv4 address with an optional prefix length; checked for range in the AST builder.
IPV4 : DIGIT+ '.' DIGIT+ '.' DIGIT+ '.' DIGIT+ ('/' DIGIT+)? ;
// An IPv6 address (at least two colons, so 'map m: ...' never lexes as one) with an optional prefix
// length; its groups, '::' and range are checked in the AST builder.
IPV6 : HEXDIGIT* ':' HEXDIGIT* ':' (HEXDIGIT | ':')* ('/' DIGIT+)? ;
// Decimal or hex; '_' separates digit groups (2_000_000). Range is checked in the AST builder.
INT  : DIGIT (DIGIT | '_')* | '0' [xX] HEXDIGIT (HEXDIGIT | '_')* ;
HEXSTRING : 'x"' (HEXDIGIT | ' ' | '_')* '"' ;
STRING : '"' (ESC | ~["\\\r\n])* '"' ;
// Longest match prefers STRING; this only matches a string that never closes on its line.
UNTERMINATED_STRING : '"' (ESC | ~["\\\r\n])* ;
IDENT : [a-zA-Z] [a-zA-Z0-9_]* ;

COMMENT : '#' ~[\r\n]* -> skip ;
WS : [ \t\r\n]+ -> skip ;
// Anything else is one bad character: the parser reports it at its position.
BAD_CHAR : . ;

fragment ESC : '\\' . ;
fragment DIGIT : [0-9] ;
fragment HEXDIGIT : [0-9a-fA-F] ;
