//! Go: cmd/compile/internal/syntax — just enough of Go's scanner and parser for constant
//! declarations: a `package` clause, then `const` declarations, single or grouped, whose
//! expressions use literals, names, unary and binary operators, parentheses and calls
//! (conversions and `len`). Semicolons are inserted at line ends as Go's scanner does.
//! [`Expr`]'s `Display` prints an expression the way syntax.String does in messages.

use std::fmt;

/// A source position: line and column (in bytes), both from 1, as the compiler prints them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

/// A message at a position: what `go build` prints as `file:line:col: msg`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub pos: Pos,
    pub msg: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LitKind {
    Int,
    Float,
    Rune,
    String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExprKind {
    /// The literal's source text, as written.
    Lit(LitKind, String),
    Name(String),
    Paren(Box<Expr>),
    Unary(&'static str, Box<Expr>),
    Binary(&'static str, Box<Expr>, Box<Expr>),
    Call(Box<Expr>, Vec<Expr>),
}

/// Go: syntax.Expr. `pos` is where syntax puts it: the operator of an operation, the
/// parenthesis of a call or parenthesized expression, else the first byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expr {
    pub pos: Pos,
    pub kind: ExprKind,
}

impl Expr {
    /// Go: syntax.StartPos — the leftmost position of the expression.
    pub fn start(&self) -> Pos {
        match &self.kind {
            ExprKind::Binary(_, x, _) => x.start(),
            ExprKind::Call(f, _) => f.start(),
            _ => self.pos,
        }
    }
    /// Go: opPos (types2/expr.go) — the operator of an operation, else the start.
    pub fn op_pos(&self) -> Pos {
        match &self.kind {
            ExprKind::Unary(..) | ExprKind::Binary(..) => self.pos,
            _ => self.start(),
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Lit(_, s) | ExprKind::Name(s) => f.write_str(s),
            ExprKind::Paren(x) => write!(f, "({x})"),
            ExprKind::Unary(op, x) => write!(f, "{op}{x}"),
            ExprKind::Binary(op, x, y) => write!(f, "{x} {op} {y}"),
            ExprKind::Call(fun, args) => {
                write!(f, "{fun}(")?;
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_str(")")
            }
        }
    }
}

/// One ConstSpec: `names [Type] = values`; an empty spec in a group repeats the previous
/// one (the parser leaves `typ` and `values` empty and the checker does the repeating).
#[derive(Debug, Clone)]
pub struct Spec {
    pub names: Vec<(String, Pos)>,
    pub typ: Option<(String, Pos)>,
    pub values: Vec<Expr>,
    /// Index of the spec in its group: the value of iota.
    pub iota: u64,
    /// Whether it has no `= values` (implicit repetition, or a missing init).
    pub empty: bool,
    /// The spec's group, numbered from 0 in the file; a lone spec is a group of one.
    pub group: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Ident(String),
    Lit(LitKind, String),
    Op(&'static str),
    Semi,
    Eof,
}

/// The operators and punctuation the scanner knows, longest first.
const OPS: [&str; 24] = [
    "&^", "<<", ">>", "&&", "||", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "&", "|", "^",
    "<", ">", "!", "(", ")", ",", "=",
];

struct Scanner<'a> {
    src: &'a [u8],
    i: usize,
    line: u32,
    col: u32,
    /// Go's scanner inserts a semicolon at a newline after these tokens.
    nlsemi: bool,
}

impl<'a> Scanner<'a> {
    fn peek(&self, k: usize) -> u8 {
        self.src.get(self.i + k).copied().unwrap_or(0)
    }
    fn bump(&mut self) {
        if self.peek(0) == b'\n' {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        self.i += 1;
    }
    fn pos(&self) -> Pos {
        Pos {
            line: self.line,
            col: self.col,
        }
    }
    fn err<T>(&self, pos: Pos, msg: impl Into<String>) -> Result<T, Error> {
        Err(Error {
            pos,
            msg: msg.into(),
        })
    }

    fn next(&mut self) -> Result<(Tok, Pos), Error> {
        loop {
            let c = self.peek(0);
            let pos = self.pos();
            match c {
                b'\n' if self.nlsemi => {
                    self.nlsemi = false;
                    self.bump();
                    return Ok((Tok::Semi, pos));
                }
                b' ' | b'\t' | b'\r' | b'\n' => self.bump(),
                b'/' if self.peek(1) == b'/' => {
                    while self.i < self.src.len() && self.peek(0) != b'\n' {
                        self.bump();
                    }
                }
                b'/' if self.peek(1) == b'*' => {
                    let mut newline = false;
                    self.bump();
                    self.bump();
                    loop {
                        if self.i >= self.src.len() {
                            return self.err(pos, "comment not terminated");
                        }
                        if self.peek(0) == b'*' && self.peek(1) == b'/' {
                            self.bump();
                            self.bump();
                            break;
                        }
                        newline |= self.peek(0) == b'\n';
                        self.bump();
                    }
                    if newline && self.nlsemi {
                        self.nlsemi = false;
                        return Ok((Tok::Semi, pos));
                    }
                }
                _ => break,
            }
        }
        let pos = self.pos();
        let c = self.peek(0);
        if self.i >= self.src.len() {
            if self.nlsemi {
                self.nlsemi = false;
                return Ok((Tok::Semi, pos));
            }
            return Ok((Tok::Eof, pos));
        }
        let start = self.i;
        let tok = if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 {
            while {
                let c = self.peek(0);
                c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
            } {
                self.bump();
            }
            let s = std::str::from_utf8(&self.src[start..self.i])
                .map_err(|_| Error {
                    pos,
                    msg: "invalid UTF-8 encoding".into(),
                })?
                .to_string();
            if !s.chars().all(|c| c.is_alphanumeric() || c == '_') {
                return self.err(pos, format!("invalid character in identifier {s:?}"));
            }
            Tok::Ident(s)
        } else if c.is_ascii_digit() || (c == b'.' && self.peek(1).is_ascii_digit()) {
            self.number(pos)?
        } else if c == b'\'' || c == b'"' {
            self.bump();
            loop {
                match self.peek(0) {
                    b'\\' => {
                        self.bump();
                        if self.i < self.src.len() {
                            self.bump();
                        }
                    }
                    b'\n' | 0 if self.peek(0) == b'\n' || self.i >= self.src.len() => {
                        let what = if c == b'"' { "string" } else { "rune" };
                        return self.err(pos, format!("{what} literal not terminated"));
                    }
                    q if q == c => {
                        self.bump();
                        break;
                    }
                    _ => self.bump(),
                }
            }
            let kind = if c == b'"' {
                LitKind::String
            } else {
                LitKind::Rune
            };
            Tok::Lit(kind, self.text(start, pos)?)
        } else if c == b'`' {
            self.bump();
            while self.peek(0) != b'`' {
                if self.i >= self.src.len() {
                    return self.err(pos, "raw string literal not terminated");
                }
                self.bump();
            }
            self.bump();
            Tok::Lit(LitKind::String, self.text(start, pos)?)
        } else {
            let op = OPS
                .iter()
                .find(|op| self.src[self.i..].starts_with(op.as_bytes()));
            match op {
                Some(op) => {
                    for _ in 0..op.len() {
                        self.bump();
                    }
                    Tok::Op(op)
                }
                None => {
                    let (ch, _) = super::fmt_rune(&self.src[self.i..]);
                    return self.err(
                        pos,
                        format!("syntax error: unexpected {ch} (not supported here)"),
                    );
                }
            }
        };
        self.nlsemi = matches!(tok, Tok::Ident(_) | Tok::Lit(..) | Tok::Op(")"));
        Ok((tok, pos))
    }

    fn text(&self, start: usize, pos: Pos) -> Result<String, Error> {
        match std::str::from_utf8(&self.src[start..self.i]) {
            Ok(s) => Ok(s.to_string()),
            Err(_) => self.err(pos, "invalid UTF-8 encoding"),
        }
    }

    /// A number literal: digits, letters, `_`, `.`, and a sign right after an exponent
    /// letter (e for decimal, p for hexadecimal). The checker validates and evaluates it.
    fn number(&mut self, pos: Pos) -> Result<Tok, Error> {
        let start = self.i;
        let hex = self.peek(0) == b'0' && matches!(self.peek(1), b'x' | b'X');
        let mut float = false;
        loop {
            let c = self.peek(0);
            if c.is_ascii_alphanumeric() || c == b'_' || c == b'.' {
                let exp = if hex {
                    matches!(c, b'p' | b'P')
                } else {
                    matches!(c, b'e' | b'E')
                };
                float |= c == b'.' || exp;
                self.bump();
                if exp && matches!(self.peek(0), b'+' | b'-') {
                    self.bump();
                }
            } else {
                break;
            }
        }
        let s = self.text(start, pos)?;
        if s.ends_with('i') {
            return self.err(pos, "complex constants are not supported");
        }
        let kind = if float { LitKind::Float } else { LitKind::Int };
        Ok(Tok::Lit(kind, s))
    }
}

/// Parse a file: `package NAME` and constant declarations.
pub fn parse_file(src: &str) -> Result<Vec<Spec>, Error> {
    let mut p = Parser::new(src, Pos { line: 1, col: 1 })?;
    p.want(&Tok::Ident("package".into()), "package clause")?;
    p.ident()?;
    p.semi()?;
    let mut specs = Vec::new();
    let mut group = 0;
    while p.tok != Tok::Eof {
        if p.tok != Tok::Ident("const".into()) {
            return p.unexpected("const declaration (only constants are supported)");
        }
        p.advance()?;
        if p.tok == Tok::Op("(") {
            p.advance()?;
            let mut iota = 0;
            while p.tok != Tok::Op(")") {
                specs.push(p.spec(iota, group)?);
                iota += 1;
                if p.tok != Tok::Op(")") {
                    p.semi()?;
                }
            }
            p.advance()?;
        } else {
            specs.push(p.spec(0, group)?);
        }
        group += 1;
        if p.tok != Tok::Eof {
            p.semi()?;
        }
    }
    Ok(specs)
}

/// Parse one expression (for the rows of the corpus table); `at` is where its text starts.
pub fn parse_expr(src: &str, at: Pos) -> Result<Expr, Error> {
    let mut p = Parser::new(src, at)?;
    let e = p.expr()?;
    if p.tok == Tok::Semi {
        p.advance()?;
    }
    if p.tok != Tok::Eof {
        return p.unexpected("end of expression");
    }
    Ok(e)
}

/// How deep expressions may nest: deeper input is refused instead of overflowing the stack.
const MAX_DEPTH: u32 = 200;
/// How many binary operators a file may hold: a chain of them is a tree as deep as it is long.
const MAX_OPS: u32 = 5000;

struct Parser<'a> {
    s: Scanner<'a>,
    tok: Tok,
    pos: Pos,
    depth: u32,
    ops: u32,
}

impl<'a> Parser<'a> {
    fn new(src: &'a str, at: Pos) -> Result<Parser<'a>, Error> {
        let mut s = Scanner {
            src: src.as_bytes(),
            i: 0,
            line: at.line,
            col: at.col,
            nlsemi: false,
        };
        let (tok, pos) = s.next()?;
        Ok(Parser {
            s,
            tok,
            pos,
            depth: 0,
            ops: 0,
        })
    }
    fn advance(&mut self) -> Result<(), Error> {
        let (tok, pos) = self.s.next()?;
        self.tok = tok;
        self.pos = pos;
        Ok(())
    }
    fn unexpected<T>(&self, want: &str) -> Result<T, Error> {
        let got = match &self.tok {
            Tok::Ident(s) => format!("name {s}"),
            Tok::Lit(_, s) => format!("literal {s}"),
            Tok::Op(o) => o.to_string(),
            Tok::Semi => "newline or semicolon".into(),
            Tok::Eof => "EOF".into(),
        };
        Err(Error {
            pos: self.pos,
            msg: format!("syntax error: unexpected {got}, expected {want}"),
        })
    }
    fn want(&mut self, t: &Tok, what: &str) -> Result<(), Error> {
        if &self.tok != t {
            return self.unexpected(what);
        }
        self.advance()
    }
    fn semi(&mut self) -> Result<(), Error> {
        self.want(&Tok::Semi, "semicolon or newline")
    }
    fn ident(&mut self) -> Result<(String, Pos), Error> {
        match &self.tok {
            Tok::Ident(s) => {
                let r = (s.clone(), self.pos);
                self.advance()?;
                Ok(r)
            }
            _ => self.unexpected("name"),
        }
    }

    fn spec(&mut self, iota: u64, group: usize) -> Result<Spec, Error> {
        let mut names = vec![self.ident()?];
        while self.tok == Tok::Op(",") {
            self.advance()?;
            names.push(self.ident()?);
        }
        let typ = match self.tok {
            Tok::Ident(_) => Some(self.ident()?),
            _ => None,
        };
        let mut values = Vec::new();
        let empty = self.tok != Tok::Op("=");
        if !empty {
            self.advance()?;
            values.push(self.expr()?);
            while self.tok == Tok::Op(",") {
                self.advance()?;
                values.push(self.expr()?);
            }
        }
        Ok(Spec {
            names,
            typ,
            values,
            iota,
            empty,
            group,
        })
    }

    /// Go's five binary precedence levels, from || (1) to the multiplications (5).
    fn prec(&self) -> Option<(&'static str, u8)> {
        let Tok::Op(op) = self.tok else { return None };
        let p = match op {
            "||" => 1,
            "&&" => 2,
            "==" | "!=" | "<" | "<=" | ">" | ">=" => 3,
            "+" | "-" | "|" | "^" => 4,
            "*" | "/" | "%" | "<<" | ">>" | "&" | "&^" => 5,
            _ => return None,
        };
        Some((op, p))
    }

    fn expr(&mut self) -> Result<Expr, Error> {
        self.binary(1)
    }

    fn binary(&mut self, min: u8) -> Result<Expr, Error> {
        let mut x = self.unary()?;
        while let Some((op, p)) = self.prec() {
            if p < min {
                break;
            }
            let pos = self.pos;
            self.ops += 1;
            if self.ops > MAX_OPS {
                return Err(Error {
                    pos,
                    msg: "expression has too many operators".into(),
                });
            }
            self.advance()?;
            let y = self.binary(p + 1)?;
            x = Expr {
                pos,
                kind: ExprKind::Binary(op, Box::new(x), Box::new(y)),
            };
        }
        Ok(x)
    }

    fn enter(&mut self) -> Result<(), Error> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Error {
                pos: self.pos,
                msg: "expression nested too deeply".into(),
            });
        }
        Ok(())
    }

    fn unary(&mut self) -> Result<Expr, Error> {
        if let Tok::Op(op @ ("+" | "-" | "!" | "^")) = self.tok {
            let pos = self.pos;
            self.enter()?;
            self.advance()?;
            let x = self.unary()?;
            self.depth -= 1;
            return Ok(Expr {
                pos,
                kind: ExprKind::Unary(op, Box::new(x)),
            });
        }
        let mut x = self.operand()?;
        while self.tok == Tok::Op("(") {
            let pos = self.pos;
            self.enter()?;
            self.advance()?;
            let mut args = Vec::new();
            while self.tok != Tok::Op(")") {
                args.push(self.expr()?);
                if self.tok == Tok::Op(",") {
                    self.advance()?;
                } else if self.tok != Tok::Op(")") {
                    return self.unexpected("comma or )");
                }
            }
            self.advance()?;
            self.depth -= 1;
            x = Expr {
                pos,
                kind: ExprKind::Call(Box::new(x), args),
            };
        }
        Ok(x)
    }

    fn operand(&mut self) -> Result<Expr, Error> {
        let pos = self.pos;
        let kind = match self.tok.clone() {
            Tok::Ident(s) => ExprKind::Name(s),
            Tok::Lit(k, s) => ExprKind::Lit(k, s),
            Tok::Op("(") => {
                self.enter()?;
                self.advance()?;
                let x = self.expr()?;
                self.depth -= 1;
                if self.tok != Tok::Op(")") {
                    return self.unexpected(")");
                }
                ExprKind::Paren(Box::new(x))
            }
            _ => return self.unexpected("expression"),
        };
        self.advance()?;
        Ok(Expr { pos, kind })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_operators_bind_by_go_precedence_and_print_with_blanks() {
        let e = parse_expr("1<<2+3*4 == 5 || !ok", Pos { line: 1, col: 1 }).unwrap();
        assert_eq!(e.to_string(), "1 << 2 + 3 * 4 == 5 || !ok");
        // << and * share a level, so 1<<300*1<<300 is ((1<<300)*1)<<300.
        let e = parse_expr("1<<300 * 1<<300", Pos { line: 1, col: 1 }).unwrap();
        let ExprKind::Binary("<<", x, _) = &e.kind else {
            panic!("{e:?}")
        };
        assert!(matches!(x.kind, ExprKind::Binary("*", ..)));
        assert_eq!(e.pos, Pos { line: 1, col: 11 }); // the operator
        assert_eq!(e.start(), Pos { line: 1, col: 1 });
    }

    #[test]
    fn newline_inserts_semicolon_after_operand() {
        let specs =
            parse_file("package p\nconst (\n\ta = iota\n\tb\n)\nconst c, d = 1, 2\n").unwrap();
        assert_eq!(specs.len(), 3);
        assert!(specs[1].empty);
        assert_eq!(specs[1].iota, 1);
        assert_eq!(specs[2].names.len(), 2);
    }

    #[test]
    fn unsupported_syntax_is_an_error_not_a_panic() {
        assert!(parse_file("package p\nvar x = 1\n").is_err());
        assert!(parse_file("package p\nconst x = 1i\n").is_err());
        assert!(parse_file("package p\nconst x = \"abc\n").is_err());
        let deep = format!(
            "package p\nconst x = {}1{}\n",
            "(".repeat(1000),
            ")".repeat(1000)
        );
        assert!(parse_file(&deep).is_err());
    }
}
