//! # The spec's exact constant arithmetic, as the compiler does it
//!
//! Go's constants are not machine numbers. An untyped integer constant is exact however
//! large an intermediate gets (`1<<100>>98` is 4), up to the compiler's limit of 512 bits;
//! an untyped float constant is an exact fraction, so `0.1+0.2 == 0.3` is true for constants
//! and false for float64s. A constant meets a machine type only when it is given one — by a
//! typed declaration, a conversion, or by going into an interface, where it takes its default
//! type — and then it must be representable in it, or the program does not compile.
//!
//! The modules mirror where Go keeps each piece: [`value`] is go/constant's values (without
//! complex numbers, and without its 512-bit `floatVal`: see [`value::Exceeds`]), [`types`]
//! the basic types, [`syntax`] a parser for constant declarations, [`check`] types2's
//! constant rules with its exact messages, and [`fmt`] how fmt.Println and the compiler's
//! messages print values.
//!
//! ```
//! use chapter_memory_model::constant::Package;
//!
//! let mut p = Package::check("package p\nconst (\n\t_ = iota\n\tKB = 1 << (10 * iota)\n\tMB\n)\n");
//! assert_eq!(p.println("MB").unwrap(), "1048576");
//! assert_eq!(p.println("0.1 + 0.2 == 0.3").unwrap(), "true");
//! assert_eq!(p.println("string('a' + 1)").unwrap(), "b");
//! let bad = Package::check("package p\nconst b byte = 256\n");
//! assert_eq!(
//!     bad.errors("p.go"),
//!     "p.go:2:16: cannot use 256 (untyped int constant) as byte value in constant declaration (overflows)\n"
//! );
//! ```

pub mod check;
pub mod fmt;
pub mod syntax;
pub mod types;
pub mod value;

use check::Checker;
use syntax::{Error, Pos};
use types::Kind;
use value::Value;

/// The corpus of accepted declarations, the same file go/constants compiles.
pub const CASES_GO: &str = include_str!("../../go/constants/cases.go");
/// The corpus of rejected declarations, the same file go/consterrors embeds.
pub const ERROR_CASES: &str = include_str!("../../go/consterrors/cases.txt");
/// What go/consterrors writes before cases.txt (its `header`).
pub const ERROR_HEADER: &str = "package consterrors\n\n";

/// A checked file of constant declarations: its constants and its errors.
pub struct Package {
    checker: Checker,
}

impl Package {
    /// Parse and check `src`, a Go file holding a package clause and constant declarations.
    /// A syntax error stops the parse and is the only error.
    pub fn check(src: &str) -> Package {
        let mut checker = Checker::new();
        match syntax::parse_file(src) {
            Ok(specs) => checker.decls(&specs),
            Err(e) => checker.errors.push(e),
        }
        Package { checker }
    }

    /// The errors, sorted by position (as `go build -gcflags=-e` prints them).
    pub fn error_list(&self) -> Vec<Error> {
        let mut errs = self.checker.errors.clone();
        errs.sort_by_key(|e| e.pos);
        errs
    }

    /// The errors as `file:line:col: message` lines.
    pub fn errors(&self, file: &str) -> String {
        self.error_list()
            .iter()
            .map(|e| format!("{file}:{}:{}: {}\n", e.pos.line, e.pos.col, e.msg))
            .collect()
    }

    /// The type and value of a declared constant (None if undeclared or invalid).
    pub fn get(&self, name: &str) -> Option<(types::Type, Value)> {
        self.checker.scope.get(name).cloned().flatten()
    }

    /// What `fmt.Println(expr)` prints for a constant expression over this package's
    /// constants: the value in its default type if untyped, formatted as `%v`.
    pub fn println(&mut self, expr: &str) -> Result<String, Error> {
        self.println_at(expr, Pos { line: 1, col: 1 })
    }

    fn println_at(&mut self, expr: &str, at: Pos) -> Result<String, Error> {
        let e = syntax::parse_expr(expr, at)?;
        let before = self.checker.errors.len();
        let x = self.checker.expr(&e).and_then(|x| {
            let t = x.typ.default();
            self.checker.assignment(x, Some(t), "struct literal")
        });
        let first_new = self.checker.errors.drain(before..).next();
        match (x, first_new) {
            (Some(x), None) => Ok(print(x.typ.kind, &x.val)),
            (_, Some(e)) => Err(e),
            (None, None) => Err(Error {
                pos: at,
                msg: "invalid constant (an earlier declaration failed)".into(),
            }),
        }
    }
}

/// Go: fmt's `%v` of a value of a (typed) basic type.
fn print(kind: Kind, v: &Value) -> String {
    match v {
        Value::Bool(b) => b.to_string(),
        // Go writes the bytes as they are; a Rust String can only hold them as UTF-8.
        Value::String(s) => String::from_utf8_lossy(s).into_owned(),
        Value::Int(i) => i.to_string(),
        Value::Float(r) if kind == Kind::Float32 => fmt::float32(r.to_f32()),
        Value::Float(r) => fmt::float64(r.to_f64()),
        Value::Unknown => "unknown".into(),
    }
}

/// What go/constants prints: `NAME = VALUE` for every row `{"NAME", EXPR},` of the `cases`
/// table in `src` (cases.go), each EXPR evaluated after the declarations above the table.
pub fn run_constants(src: &str) -> Result<String, String> {
    let table = src.find("\nvar cases").ok_or("no `var cases` table")?;
    let mut p = Package::check(&src[..table + 1]);
    let errs = p.errors("cases.go");
    if !errs.is_empty() {
        return Err(errs);
    }
    let mut out = String::new();
    let first_line = src[..table + 1].lines().count() as u32 + 1;
    for (i, line) in src[table + 1..].lines().enumerate() {
        let Some(row) = line.trim().strip_prefix("{\"") else {
            continue;
        };
        let (name, rest) = row.split_once("\", ").ok_or("a row is {\"NAME\", EXPR},")?;
        let expr = rest.strip_suffix("},").ok_or("a row ends with },")?;
        let col = (line.len() - expr.len() - 2 + 1) as u32;
        let at = Pos {
            line: first_line + i as u32,
            col,
        };
        match p.println_at(expr, at) {
            Ok(v) => out.push_str(&format!("{name} = {v}\n")),
            Err(e) => return Err(format!("cases.go:{}:{}: {}", e.pos.line, e.pos.col, e.msg)),
        }
    }
    Ok(out)
}

/// What go/consterrors prints for `cases` (cases.txt): the messages for the file the driver
/// builds, header included, sorted by position.
pub fn run_errors(cases: &str) -> String {
    Package::check(&format!("{ERROR_HEADER}{cases}")).errors("consterrors.go")
}

/// The crate's answer for a program of go/golden.txt: the text go/constants or
/// go/consterrors prints. `input` (the golden file) is not needed.
pub fn oracle(name: &str, _input: &str) -> Option<String> {
    match name {
        "constants" => Some(run_constants(CASES_GO).unwrap_or_else(|e| format!("error: {e}\n"))),
        "consterrors" => Some(run_errors(ERROR_CASES)),
        _ => None,
    }
}

/// The first rune of `s` for a message, as Go's scanner would name it.
fn fmt_rune(s: &[u8]) -> (String, usize) {
    match fmt_rune_len(s) {
        (Some(c), n) => (format!("{c:?}"), n),
        (None, n) => (format!("byte {:#04x}", s[0]), n),
    }
}

/// The first UTF-8 rune of `s` and its length; (None, 1) where no rune starts.
fn fmt_rune_len(s: &[u8]) -> (Option<char>, usize) {
    for n in 1..=s.len().min(4) {
        if let Ok(t) = std::str::from_utf8(&s[..n]) {
            return (t.chars().next(), n);
        }
    }
    (None, 1)
}
