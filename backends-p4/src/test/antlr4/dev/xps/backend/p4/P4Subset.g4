// The subset of P4-16 that xpsc's p4-bmv2 backend emits, for a syntax check of the generated
// programs that runs everywhere (P4SyntaxTest). It is NOT P4-16 and NOT a substitute for p4c:
// types, widths, extern signatures and the v1model architecture are p4c's job
// (backends-p4/README.md).
grammar P4Subset;

program : declaration* EOF ;

declaration
    : constDecl
    | headerDecl
    | structDecl
    | externFunction
    | instantiation
    | parserDecl
    | controlDecl
    ;

constDecl : 'const' typeRef NAME '=' expression ';' ;

headerDecl : 'header' NAME '{' field* '}' ;

structDecl : 'struct' NAME '{' field* '}' ;

field : typeRef NAME ';' ;

externFunction : 'extern' 'void' NAME '(' ')' ';' ;

typeRef
    : 'bit' '<' INT '>'                     # bitType
    | 'bool'                                # boolType
    | NAME '<' typeRef '>'                  # genericType
    | NAME                                  # namedType
    | typeRef '[' INT ']'                   # stackType
    ;

instantiation : typeRef '(' argumentList? ')' NAME ';' ;

argumentList : expression (',' expression)* ;

parameterList : parameter (',' parameter)* ;

parameter : direction? typeRef NAME ;

direction : 'in' | 'out' | 'inout' ;

// ---------------------------------------------------------------- parsers

parserDecl : 'parser' NAME '(' parameterList ')' '{' parserState* '}' ;

parserState : 'state' NAME '{' parserStatement* transition '}' ;

parserStatement
    : assignment
    | expression ';'
    ;

transition
    : 'transition' NAME ';'                                                  # directTransition
    | 'transition' 'select' '(' argumentList ')' '{' selectCase* '}'         # selectTransition
    ;

selectCase : keyset ':' NAME ';' ;

keyset
    : 'default'
    | '(' keysetElement (',' keysetElement)* ')'
    | keysetElement
    ;

keysetElement
    : '_'
    | 'default'
    | expression '&&&' expression
    | expression
    ;

// ---------------------------------------------------------------- controls

controlDecl : 'control' NAME '(' parameterList ')' '{' controlLocal* 'apply' block '}' ;

controlLocal
    : variableDecl
    | actionDecl
    | tableDecl
    | instantiation
    ;

actionDecl : 'action' NAME '(' parameterList? ')' block ;

tableDecl : 'table' NAME '{' tableProperty* '}' ;

tableProperty
    : 'key' '=' '{' keyElement* '}'                       # keyProperty
    | 'actions' '=' '{' (NAME ';')* '}'                   # actionsProperty
    | 'default_action' '=' NAME '(' argumentList? ')' ';' # defaultActionProperty
    | 'size' '=' expression ';'                           # sizeProperty
    | 'counters' '=' NAME ';'                             # countersProperty
    ;

keyElement : expression ':' NAME ';' ;

// ---------------------------------------------------------------- statements

block : '{' statement* '}' ;

statement
    : variableDecl
    | assignment
    | expression ';'
    | ifStatement
    | 'return' ';'
    | block
    ;

variableDecl : typeRef NAME ('=' expression)? ';' ;

assignment : expression '=' expression ';' ;

ifStatement : 'if' '(' expression ')' block ('else' (ifStatement | block))? ;

// ---------------------------------------------------------------- expressions

expression
    : primary                                                  # primaryExpr
    | expression '.' NAME '<' typeRef '>' '(' ')'              # genericCallExpr
    | expression '.' (NAME | 'apply')                          # memberExpr
    | expression '[' expression ':' expression ']'             # sliceExpr
    | expression '[' expression ']'                            # indexExpr
    | expression '(' argumentList? ')'                         # callExpr
    | '(' typeRef ')' expression                               # castExpr
    | ('!' | '~' | '-') expression                             # unaryExpr
    | expression '*' expression                                # mulExpr
    | expression ('+' | '-') expression                        # addExpr
    | expression ('<' '<' | '>' '>') expression                # shiftExpr
    | expression '++' expression                               # concatExpr
    | expression '&' expression                                # bitAndExpr
    | expression '^' expression                                # bitXorExpr
    | expression '|' expression                                # bitOrExpr
    | expression ('<=' | '>=' | '<' | '>') expression          # compareExpr
    | expression ('==' | '!=') expression                      # equalityExpr
    | expression '&&' expression                               # andExpr
    | expression '||' expression                               # orExpr
    | <assoc=right> expression '?' expression ':' expression   # conditionalExpr
    ;

primary
    : INT
    | 'true'
    | 'false'
    | 'error'
    | NAME
    | '(' expression ')'
    | '{' argumentList? '}'
    ;

INT : [0-9]+ ('w' ([0-9]+ | '0x' [0-9a-fA-F]+))? | '0x' [0-9a-fA-F]+ ;
NAME : [a-zA-Z_] [a-zA-Z0-9_]* ;

PREPROCESSOR : '#' ~[\r\n]* -> skip ;
BLOCK_COMMENT : '/*' .*? '*/' -> skip ;
LINE_COMMENT : '//' ~[\r\n]* -> skip ;
WS : [ \t\r\n]+ -> skip ;
