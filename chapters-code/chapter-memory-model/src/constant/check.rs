//! Go: cmd/compile/internal/types2 — {decl.go: constDecl, expr.go: unary, binary, shift,
//! matchTypes, comparison, conversions.go: conversion, const.go: overflow, representable,
//! assignments.go: assignment}, for constant operands only. Messages and positions are
//! types2's, so that `go build` and this checker print the same lines.

use super::fmt;
use super::syntax::{Error, Expr, ExprKind, LitKind, Pos, Spec};
use super::types::{Kind, Type};
use super::value::{Exceeds, Rat, Value, MAX_EXP};
use num_bigint::{BigInt, BigUint};
use num_traits::{One, Signed, ToPrimitive, Zero};
use std::cmp::Ordering;
use std::collections::HashMap;

/// Go: operand, in mode `constant_`: an expression, its type and its value.
#[derive(Debug, Clone)]
pub struct Operand {
    pub expr: Expr,
    pub typ: Type,
    pub val: Value,
}

impl std::fmt::Display for Operand {
    /// Go: operandString — `expr (untyped int constant 300)`, `t0 + t0 (constant 400 of
    /// type byte)`: the value is shown only where it differs from the expression's text.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let expr = self.expr.to_string();
        write!(f, "{expr} (")?;
        if self.typ.is_untyped() {
            write!(f, "{} ", self.typ)?;
        }
        f.write_str("constant")?;
        let v = fmt::value(&self.val);
        if v != expr {
            write!(f, " {v}")?;
        }
        if !self.typ.is_untyped() {
            write!(f, " of type {}", self.typ)?;
        }
        f.write_str(")")
    }
}

/// Why a constant does not fit a type (types2's error codes for representation).
enum Code {
    Truncated,
    Overflow,
    Invalid,
}

/// Go: the compiler's limit on untyped integer constants (const.go: overflow), in bits.
pub const PREC: u64 = 512;

/// Go: shiftBound (expr.go: shift) — the largest constant shift count, enough to write the
/// smallest float64 as 1<<1074.
pub const SHIFT_BOUND: u64 = 1023 - 1 + 52;

/// Go: maxLen (const.go: overflow) — the longest constant string, cmd/internal/obj.MaxSymSize.
pub const MAX_STRING: u64 = 2_000_000_000;

/// This crate's own cap on a constant string, far below Go's: doubling a string a few dozen
/// times would otherwise take all memory before Go's limit is reached.
const MAX_STRING_HERE: u64 = 1 << 26;

// ANCHOR: representable
/// Go: representableConst (const.go). The value `v` takes as a constant of type `t`:
/// integers must fit the type's range, floats are rounded to float32 or float64 and must not
/// become infinite; None if `v` cannot be one.
pub fn representable(v: &Value, t: Type) -> Option<Value> {
    if *v == Value::Unknown {
        return Some(Value::Unknown); // an earlier error said enough
    }
    if t.is_integer() {
        let i = v.to_int()?; // 2.0 is an integer, 2.5 is not
        let fits = match t.bits() {
            None => true, // untyped int or rune
            Some((n, true)) => i.bits() < n as u64 || i == -(BigInt::one() << (n - 1)),
            Some((n, false)) => !i.is_negative() && i.bits() <= n as u64,
        };
        return fits.then_some(Value::Int(i));
    }
    if t.is_float() {
        let r = v.to_rat()?;
        let f = match t.kind {
            Kind::Float32 => r.to_f32() as f64, // rounded once, to float32 directly
            Kind::Float64 => r.to_f64(),
            _ => return Some(Value::Float(r)),
        };
        return f.is_finite().then(|| Value::Float(Rat::from_f64(f)));
    }
    match (v, t.is_string(), t.is_boolean()) {
        (Value::String(_), true, _) | (Value::Bool(_), _, true) => Some(v.clone()),
        _ => None,
    }
}
// ANCHOR_END: representable

/// What has been declared: `Some((type, value))`, or None for a constant whose declaration
/// failed (uses of it report nothing more, as in types2).
pub type Scope = HashMap<String, Option<(Type, Value)>>;

pub struct Checker {
    pub scope: Scope,
    pub errors: Vec<Error>,
    iota: Option<u64>,
    /// Go: check.errpos — set while an inherited (implicitly repeated) expression is checked:
    /// its errors are reported at the constant's name, the only position it has.
    errpos: Option<Pos>,
}

type Opnd = Option<Operand>;

impl Default for Checker {
    fn default() -> Self {
        Self::new()
    }
}

impl Checker {
    pub fn new() -> Checker {
        Checker {
            scope: HashMap::new(),
            errors: Vec::new(),
            iota: None,
            errpos: None,
        }
    }

    fn error(&mut self, pos: Pos, msg: String) {
        let pos = self.errpos.unwrap_or(pos);
        self.errors.push(Error { pos, msg });
    }

    /// Go: constDecl for every spec, in order (Go also allows uses before the declaration;
    /// this checker does not).
    pub fn decls(&mut self, specs: &[Spec]) {
        // The group, type and values of the last spec that had values.
        type Last = (usize, Option<(String, Pos)>, Vec<Expr>);
        let mut last: Option<Last> = None;
        for spec in specs {
            let (typ, values, inherited) = if !spec.empty {
                last = Some((spec.group, spec.typ.clone(), spec.values.clone()));
                (spec.typ.clone(), spec.values.clone(), false)
            } else {
                match &last {
                    Some((g, t, v)) if *g == spec.group && spec.typ.is_none() => {
                        (t.clone(), v.clone(), true)
                    }
                    _ => (spec.typ.clone(), Vec::new(), false),
                }
            };
            for (i, (name, pos)) in spec.names.iter().enumerate() {
                self.iota = Some(spec.iota);
                self.errpos = inherited.then_some(*pos);
                let t = match &typ {
                    None => None,
                    Some((t, tpos)) => match Type::lookup(t) {
                        Some(t) => Some(t),
                        None => {
                            self.error(*tpos, format!("undefined: {t}"));
                            self.declare(name, *pos, None);
                            continue;
                        }
                    },
                };
                let x = match values.get(i) {
                    Some(e) => self.expr(e),
                    None => {
                        self.error(*pos, "missing init expr for const declaration".into());
                        None
                    }
                };
                let obj = x.and_then(|x| self.assignment(x, t, "constant declaration"));
                self.errpos = None;
                self.declare(name, *pos, obj.map(|x| (x.typ, x.val)));
            }
            if !inherited && values.len() > spec.names.len() {
                self.error(values[spec.names.len()].start(), "extra init expr".into());
            }
        }
        self.iota = None;
    }

    fn declare(&mut self, name: &str, pos: Pos, obj: Option<(Type, Value)>) {
        if name == "_" {
            return;
        }
        if self.scope.contains_key(name) {
            self.error(pos, format!("{name} redeclared in this block"));
            return;
        }
        self.scope.insert(name.to_string(), obj);
    }

    /// Go: assignment — give an untyped constant the type `t` (or keep it untyped when
    /// there is none); a typed one must already have it.
    pub fn assignment(&mut self, mut x: Operand, t: Option<Type>, context: &str) -> Opnd {
        let Some(t) = t else { return Some(x) };
        if x.typ.is_untyped() {
            match self.representation(&x, t) {
                Ok(v) => {
                    x.val = v;
                    x.typ = t;
                }
                Err(code) => {
                    let why = match code {
                        Code::Truncated => " (truncated)",
                        Code::Overflow => " (overflows)",
                        Code::Invalid => "",
                    };
                    let msg = format!("cannot use {x} as {t} value in {context}{why}");
                    self.error(x.expr.start(), msg);
                    return None;
                }
            }
        } else if !x.typ.identical(t) {
            let msg = format!("cannot use {x} as {t} value in {context}");
            self.error(x.expr.start(), msg);
            return None;
        }
        Some(x)
    }

    /// Go: representation (const.go): the value in type `t`, or why it does not fit.
    fn representation(&self, x: &Operand, t: Type) -> Result<Value, Code> {
        if let Some(v) = representable(&x.val, t) {
            return Ok(v);
        }
        if x.typ.is_numeric() && t.is_numeric() {
            if !x.typ.is_integer() && t.is_integer() {
                return Err(Code::Truncated);
            }
            return Err(Code::Overflow);
        }
        Err(Code::Invalid)
    }

    /// Go: invalidConversion.
    fn invalid_conversion(&mut self, code: Code, x: &Operand, t: Type) {
        let msg = match code {
            Code::Truncated => format!("{x} truncated to {t}"),
            Code::Overflow => format!("{x} overflows {t}"),
            Code::Invalid => format!("cannot convert {x} to type {t}"),
        };
        self.error(x.expr.start(), msg);
    }

    // ANCHOR: overflow
    /// Go: overflow (const.go), after every constant operation. A typed result must be
    /// representable in its type (and a float one is rounded to it); an untyped integer may
    /// not grow past 512 bits, whatever the final value would be.
    fn overflow(&mut self, mut x: Operand, op_pos: Pos) -> Opnd {
        if !x.typ.is_untyped() {
            return match self.representation(&x, x.typ) {
                Ok(v) => {
                    x.val = v;
                    Some(x)
                }
                Err(code) => {
                    self.invalid_conversion(code, &x, x.typ);
                    None
                }
            };
        }
        if let Value::Int(i) = &x.val {
            if i.bits() > PREC {
                let op = match &x.expr.kind {
                    ExprKind::Unary("^", _) => "bitwise complement ",
                    ExprKind::Binary("+", ..) => "addition ",
                    ExprKind::Binary("-", ..) => "subtraction ",
                    ExprKind::Binary("^", ..) => "bitwise XOR ",
                    ExprKind::Binary("*", ..) => "multiplication ",
                    ExprKind::Binary("<<", ..) => "shift ",
                    _ => "",
                };
                self.error(op_pos, format!("constant {op}overflow"));
                x.val = Value::Unknown; // still a constant: no more errors come from it
            }
        }
        Some(x)
    }
    // ANCHOR_END: overflow

    /// An operation whose exact result go/constant would hold as a 512-bit float.
    fn exceeds(&mut self, pos: Pos) -> Opnd {
        let msg = format!(
            "constant too large or too precise for an exact fraction (parts of {MAX_EXP} \
             bits or more: go/constant switches to a 512-bit float, which this crate does not model)"
        );
        self.error(pos, msg);
        None
    }

    /// Go: exprInternal, for the expressions of constant declarations.
    pub fn expr(&mut self, e: &Expr) -> Opnd {
        let mut x = match &e.kind {
            ExprKind::Lit(kind, text) => self.literal(e, *kind, text)?,
            ExprKind::Name(n) => self.name(e, n)?,
            ExprKind::Paren(inner) => self.expr(inner)?,
            ExprKind::Unary(op, inner) => self.unary(e, op, inner)?,
            ExprKind::Binary(op, l, r) => self.binary(e, op, l, r)?,
            ExprKind::Call(fun, args) => self.call(e, fun, args)?,
        };
        x.expr = e.clone();
        Some(x)
    }

    fn literal(&mut self, e: &Expr, kind: LitKind, text: &str) -> Opnd {
        const LIMIT: usize = 10000; // Go: basicLit (literals.go)
        if kind != LitKind::String && kind != LitKind::Rune && text.len() > LIMIT {
            let msg = format!(
                "excessively long constant: {}... ({} chars)",
                &text[..10],
                text.len()
            );
            self.error(e.pos, msg);
            return None;
        }
        let parsed = match kind {
            LitKind::Int => parse_int(text).map(|i| (Kind::UntypedInt, Value::Int(i))),
            LitKind::Float => match parse_float(text) {
                Ok(Ok(r)) => Ok((Kind::UntypedFloat, Value::Float(r))),
                Ok(Err(Exceeds)) => return self.exceeds(e.pos),
                Err(m) => Err(m),
            },
            LitKind::Rune => unquote_rune(text).map(|c| (Kind::UntypedRune, Value::Int(c.into()))),
            LitKind::String => unquote(text).map(|s| (Kind::UntypedString, Value::String(s))),
        };
        match parsed {
            Ok((k, val)) => {
                let x = Operand {
                    expr: e.clone(),
                    typ: Type::untyped(k),
                    val,
                };
                self.overflow(x, e.pos) // a 200-digit literal is already too big
            }
            Err(msg) => {
                self.error(e.pos, msg);
                None
            }
        }
    }

    fn name(&mut self, e: &Expr, n: &str) -> Opnd {
        let (typ, val) = match n {
            "iota" if self.iota.is_some() && !self.scope.contains_key(n) => (
                Type::untyped(Kind::UntypedInt),
                Value::Int(self.iota.unwrap_or(0).into()),
            ),
            "true" | "false" if !self.scope.contains_key(n) => {
                (Type::untyped(Kind::UntypedBool), Value::Bool(n == "true"))
            }
            _ => match self.scope.get(n) {
                Some(Some((t, v))) => (*t, v.clone()),
                Some(None) => return None,
                None => {
                    let msg = if Type::lookup(n).is_some() {
                        format!("{n} (type) is not an expression")
                    } else if n == "len" {
                        "len (built-in function len) must be called".into()
                    } else {
                        format!("undefined: {n}")
                    };
                    self.error(e.pos, msg);
                    return None;
                }
            },
        };
        Some(Operand {
            expr: e.clone(),
            typ,
            val,
        })
    }

    /// Go: op — is the operator defined on the operand's type?
    fn op_defined(&mut self, x: &Operand, op: &str) -> bool {
        let t = x.typ;
        let ok = match op {
            "+" => t.is_numeric() || t.is_string(),
            "-" | "*" | "/" => t.is_numeric(),
            "%" | "&" | "|" | "^" | "&^" => t.is_integer(),
            "!" | "&&" | "||" => t.is_boolean(),
            _ => false,
        };
        if !ok {
            let msg = format!("invalid operation: operator {op} not defined on {x}");
            self.error(x.expr.start(), msg);
        }
        ok
    }

    fn unary(&mut self, e: &Expr, op: &str, inner: &Expr) -> Opnd {
        let mut x = self.expr(inner)?;
        let defined = if op == "+" || op == "-" {
            x.typ.is_numeric() || {
                let msg = format!("invalid operation: operator {op} not defined on {x}");
                self.error(x.expr.start(), msg);
                false
            }
        } else {
            self.op_defined(&x, op)
        };
        if !defined {
            return None;
        }
        x.val = match (op, &x.val) {
            (_, Value::Unknown) => return Some(x),
            ("+", v) => v.clone(),
            ("-", Value::Int(i)) => Value::Int(-i),
            ("-", Value::Float(r)) => Value::Float(r.neg()),
            ("!", Value::Bool(b)) => Value::Bool(!b),
            ("^", Value::Int(i)) => {
                let mut z = !i; // -i-1: all the bits of an infinitely sign-extended i, flipped
                if let (true, Some((n, _))) = (x.typ.is_unsigned(), x.typ.bits()) {
                    z &= (BigInt::one() << n) - 1; // unsigned: only the type's n bits flip
                }
                Value::Int(z)
            }
            _ => unreachable!("operator {op} was checked against the type"),
        };
        x.expr = e.clone();
        self.overflow(x, e.op_pos())
    }

    fn binary(&mut self, e: &Expr, op: &'static str, l: &Expr, r: &Expr) -> Opnd {
        let x = self.expr(l);
        let y = self.expr(r);
        let (mut x, mut y) = (x?, y?);
        if op == "<<" || op == ">>" {
            return self.shift(e, op, x, y);
        }
        self.match_types(&mut x, &mut y)?;
        if matches!(op, "==" | "!=" | "<" | "<=" | ">" | ">=") {
            return self.comparison(op, x, y);
        }
        if !x.typ.identical(y.typ) {
            let msg = format!(
                "invalid operation: {e} (mismatched types {} and {})",
                x.typ, y.typ
            );
            self.error(x.expr.start(), msg);
            return None;
        }
        if !self.op_defined(&x, op) {
            return None;
        }
        if (op == "/" || op == "%") && y.val.sign() == Ordering::Equal {
            self.error(y.expr.start(), "invalid operation: division by zero".into());
            return None;
        }
        if x.val == Value::Unknown || y.val == Value::Unknown {
            x.val = Value::Unknown;
            return Some(x);
        }
        let int_div = op == "/" && x.typ.is_integer();
        x.val = match binary_op(&x.val, op, &y.val, int_div) {
            Ok(Ok(v)) => v,
            Ok(Err(Exceeds)) => return self.exceeds(e.pos),
            Err(len) => {
                let msg = format!("constant string too long ({len} bytes > {MAX_STRING} bytes)");
                self.error(e.pos, msg);
                x.val = Value::Unknown;
                return Some(x);
            }
        };
        x.expr = e.clone();
        self.overflow(x, e.op_pos())
    }

    /// Go: matchTypes — an untyped operand takes the other operand's type (or the larger
    /// untyped kind), if the two could match at all.
    fn match_types(&mut self, x: &mut Operand, y: &mut Operand) -> Option<()> {
        let may = !(!x.typ.is_untyped() && !y.typ.is_untyped())
            && x.typ.is_numeric() == y.typ.is_numeric()
            && x.typ.is_boolean() == y.typ.is_boolean()
            && x.typ.is_string() == y.typ.is_string();
        if may {
            self.convert_untyped(x, y.typ)?;
            self.convert_untyped(y, x.typ)?;
        }
        Some(())
    }

    /// Go: convertUntyped / implicitTypeAndValue.
    fn convert_untyped(&mut self, x: &mut Operand, target: Type) -> Option<()> {
        if !x.typ.is_untyped() {
            return Some(());
        }
        if target.is_untyped() {
            if x.typ.is_numeric() && target.is_numeric() {
                x.typ = Type::untyped(x.typ.kind.max(target.kind));
            } else if x.typ.kind != target.kind {
                self.invalid_conversion(Code::Invalid, x, target);
                return None;
            }
            return Some(());
        }
        match self.representation(x, target) {
            Ok(v) => {
                x.val = v;
                x.typ = target;
                Some(())
            }
            Err(code) => {
                self.invalid_conversion(code, x, target);
                None
            }
        }
    }

    /// Go: comparison. The result is an untyped bool; the operands keep their types.
    fn comparison(&mut self, op: &str, mut x: Operand, y: Operand) -> Opnd {
        let (err_op, cause) = if !x.typ.identical(y.typ) {
            (
                Some(&y),
                format!("mismatched types {} and {}", x.typ, y.typ),
            )
        } else if op != "==" && op != "!=" && !x.typ.is_ordered() {
            (Some(&x), format!("operator {op} not defined on {}", x.typ))
        } else {
            (None, String::new())
        };
        if let Some(at) = err_op {
            let msg = format!("invalid operation: {} {op} {} ({cause})", x.expr, y.expr);
            self.error(at.expr.start(), msg);
            return None;
        }
        let ord = match (&x.val, &y.val) {
            (Value::Unknown, _) | (_, Value::Unknown) => None, // Go: Compare is false
            (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
            (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
            (a, b) => a.cmp_num(b),
        };
        let res = ord.is_some_and(|o| match op {
            "==" => o.is_eq(),
            "!=" => o.is_ne(),
            "<" => o.is_lt(),
            "<=" => o.is_le(),
            ">" => o.is_gt(),
            _ => o.is_ge(),
        });
        x.typ = Type::untyped(Kind::UntypedBool);
        x.val = Value::Bool(res);
        Some(x)
    }

    // ANCHOR: shift
    /// Go: shift (expr.go). The operand must be an integer — an untyped float that is whole,
    /// like 1.0, counts and the result is an untyped int — and the count a non-negative
    /// integer that fits uint; a constant count above 1074 is refused outright.
    fn shift(&mut self, e: &Expr, op: &str, mut x: Operand, mut y: Operand) -> Opnd {
        let xval = x.val.to_int();
        if !(x.typ.is_integer() || x.typ.is_untyped() && xval.is_some()) {
            let msg = format!("invalid operation: shifted operand {x} must be integer");
            self.error(x.expr.start(), msg);
            return None;
        }
        let yval = y.val.to_int(); // -1.0 counts as -1, but -1.5 is not an integer
        if yval.as_ref().is_some_and(|s| s.is_negative()) {
            let msg = format!("invalid operation: negative shift count {y}");
            self.error(y.expr.start(), msg);
            return None;
        }
        if y.typ.is_untyped() {
            let uint = Type::lookup("uint").expect("predeclared");
            match self.representation(&y, uint) {
                Ok(v) => y.val = v,
                Err(code) => {
                    self.invalid_conversion(code, &y, uint);
                    return None;
                }
            }
        } else if !y.typ.is_integer() {
            let msg = format!("invalid operation: shift count {y} must be integer");
            self.error(y.expr.start(), msg);
            return None;
        }
        if !x.typ.is_integer() {
            x.typ = Type::untyped(Kind::UntypedInt);
        }
        let (Some(xval), Value::Int(_)) = (xval, &y.val) else {
            x.val = Value::Unknown;
            return Some(x);
        };
        let s = match yval.and_then(|s| s.to_u64()) {
            Some(s) if s <= SHIFT_BOUND => s as usize,
            _ => {
                let msg = format!("invalid operation: invalid shift count {y}");
                self.error(y.expr.start(), msg);
                return None;
            }
        };
        x.val = Value::Int(if op == "<<" { xval << s } else { xval >> s }); // >> rounds down
        x.expr = e.clone();
        self.overflow(x, e.op_pos())
    }
    // ANCHOR_END: shift

    fn call(&mut self, e: &Expr, fun: &Expr, args: &[Expr]) -> Opnd {
        let name = match &fun.kind {
            ExprKind::Name(n) if !self.scope.contains_key(n) => n.as_str(),
            _ => {
                self.error(fun.start(), format!("invalid operation: cannot call {fun}"));
                return None;
            }
        };
        if args.len() != 1 {
            let what = if args.is_empty() {
                "not enough"
            } else {
                "too many"
            };
            self.error(e.pos, format!("{what} arguments in call to {name}"));
            return None;
        }
        if name == "len" {
            let mut x = self.expr(&args[0])?;
            if let (true, Value::String(s)) = (x.typ.is_string(), &x.val) {
                x.val = Value::Int(s.len().into());
                x.typ = Type::lookup("int").expect("predeclared");
                return Some(x);
            }
            let msg = format!("invalid argument: {x} for built-in len");
            self.error(x.expr.start(), msg);
            return None;
        }
        let Some(t) = Type::lookup(name) else {
            self.error(fun.start(), format!("undefined: {name}"));
            return None;
        };
        let mut x = self.expr(&args[0])?;
        x.val = self.conversion(&x, t)?;
        x.typ = t;
        Some(x)
    }

    /// Go: conversion (conversions.go), for a constant argument and a basic type.
    fn conversion(&mut self, x: &Operand, t: Type) -> Option<Value> {
        if let Some(v) = representable(&x.val, t) {
            return Some(v);
        }
        if x.typ.is_integer() && t.is_string() {
            // string(i): the UTF-8 of rune i, or of U+FFFD when i is no valid rune.
            let c = match x.val.to_int().and_then(|i| i.to_u32()) {
                Some(i) => char::from_u32(i).unwrap_or('\u{FFFD}'),
                None => '\u{FFFD}',
            };
            return Some(Value::String(c.to_string().into_bytes()));
        }
        let msg = if x.typ.is_integer() && t.is_integer() {
            format!("constant {} overflows {t}", fmt::value(&x.val))
        } else {
            format!("cannot convert {x} to type {t}")
        };
        self.error(x.expr.start(), msg);
        None
    }
}

/// Go: constant.BinaryOp. Err(len) for a string longer than this crate builds.
fn binary_op(x: &Value, op: &str, y: &Value, int_div: bool) -> Result<Result<Value, Exceeds>, u64> {
    Ok(Ok(match (x, y) {
        (Value::Bool(a), Value::Bool(b)) => {
            Value::Bool(if op == "&&" { *a && *b } else { *a || *b })
        }
        (Value::String(a), Value::String(b)) => {
            let len = (a.len() + b.len()) as u64;
            if len > MAX_STRING || len > MAX_STRING_HERE {
                return Err(len);
            }
            Value::String([a.as_slice(), b].concat())
        }
        (Value::Int(a), Value::Int(b)) if op != "/" || int_div => Value::Int(match op {
            "+" => a + b,
            "-" => a - b,
            "*" => a * b,
            "/" => a / b, // truncated, as Go's
            "%" => a % b,
            "&" => a & b,
            "|" => a | b,
            "^" => a ^ b,
            "&^" => a & !b,
            _ => unreachable!("operator {op} on integers"),
        }),
        (a, b) => {
            let (Some(a), Some(b)) = (a.to_rat(), b.to_rat()) else {
                unreachable!("operands of {op} have matching kinds")
            };
            let r = match op {
                "+" => a.add(&b),
                "-" => a.sub(&b),
                "*" => a.mul(&b),
                "/" => a.quo(&b),
                _ => unreachable!("operator {op} on floats"),
            };
            return Ok(Value::rat(r));
        }
    }))
}

/// An integer literal: decimal, 0x, 0o, 0b, or old-style octal (0755), with `_`s.
fn parse_int(text: &str) -> Result<BigInt, String> {
    let t: String = text.chars().filter(|&c| c != '_').collect();
    let (digits, radix) = match t.get(..2) {
        Some("0x" | "0X") => (&t[2..], 16),
        Some("0b" | "0B") => (&t[2..], 2),
        Some("0o" | "0O") => (&t[2..], 8),
        _ if t.len() > 1 && t.starts_with('0') => (&t[1..], 8),
        _ => (&t[..], 10),
    };
    if digits.is_empty() {
        return Err(format!("invalid integer literal {text}"));
    }
    BigInt::parse_bytes(digits.as_bytes(), radix).ok_or_else(|| {
        let base = match radix {
            16 => "hexadecimal",
            8 => "octal",
            2 => "binary",
            _ => "decimal",
        };
        format!("invalid digit in {base} literal {text}")
    })
}

/// A float literal, exactly: decimal (1.5e-3) or hexadecimal (0x1.8p1). Exceeds where
/// go/constant makes a floatVal: a binary exponent outside (-4096, 4096).
fn parse_float(text: &str) -> Result<Result<Rat, Exceeds>, String> {
    let bad = || format!("invalid floating-point literal {text}");
    let t: String = text.chars().filter(|&c| c != '_').collect();
    let (hex, body) = match t.get(..2) {
        Some("0x" | "0X") => (true, &t[2..]),
        _ => (false, &t[..]),
    };
    let split = |c: &[char]| body.find(c);
    let (mant, exp) = match split(if hex { &['p', 'P'] } else { &['e', 'E'] }) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None if hex => {
            return Err(format!(
                "hexadecimal mantissa requires a 'p' exponent in {text}"
            ))
        }
        None => (body, None),
    };
    let exp: i64 = match exp {
        None => 0,
        Some(e) if e.len() > 12 => return Ok(Err(Exceeds)),
        Some(e) => e.parse().map_err(|_| bad())?,
    };
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    let digits = format!("{int}{frac}");
    if digits.is_empty() || frac.contains('.') {
        return Err(bad());
    }
    let radix = if hex { 16 } else { 10 };
    let n = BigUint::parse_bytes(digits.as_bytes(), radix).ok_or_else(bad)?;
    if n.is_zero() {
        return Ok(Ok(Rat::from_int(BigInt::zero())));
    }
    // value = n * base^scale; estimate its binary exponent before building it.
    let (base, scale) = if hex {
        (2u32, exp - 4 * frac.len() as i64)
    } else {
        (10, exp - frac.len() as i64)
    };
    let log2 = if hex { 1.0 } else { std::f64::consts::LOG2_10 };
    let estimate = n.bits() as f64 + scale as f64 * log2;
    if estimate.abs() > MAX_EXP as f64 + 64.0 {
        return Ok(Err(Exceeds));
    }
    let p = BigInt::from(base).pow(scale.unsigned_abs() as u32);
    let n = BigInt::from(n);
    let r = if scale >= 0 {
        Rat::from_int(n * p)
    } else {
        Rat::new(n, p)
    };
    // Go: smallFloat — the binary exponent e, with 0.5 <= value/2^e < 1, in (-4096, 4096).
    let e = r.num().bits() as i64 - r.den().bits() as i64;
    if e.abs() >= MAX_EXP as i64 - 1 {
        return Ok(Err(Exceeds));
    }
    Ok(Ok(r))
}

/// Go: strconv.UnquoteChar, for one escape or character at the start of `s`.
fn unquote_char(s: &[u8], quote: u8) -> Result<(u32, bool, usize), String> {
    let c = s[0];
    if c != b'\\' {
        let (ch, n) = super::fmt_rune_len(s);
        return match ch {
            Some(ch) => Ok((ch as u32, false, n)),
            None => Err("invalid UTF-8 encoding".into()),
        };
    }
    let esc = *s.get(1).ok_or("escape sequence not terminated")?;
    let simple = match esc {
        b'a' => Some(7),
        b'b' => Some(8),
        b'f' => Some(12),
        b'n' => Some(10),
        b'r' => Some(13),
        b't' => Some(9),
        b'v' => Some(11),
        b'\\' => Some(b'\\' as u32),
        _ if esc == quote => Some(quote as u32),
        _ => None,
    };
    if let Some(v) = simple {
        return Ok((v, false, 2));
    }
    let (n, radix, byte) = match esc {
        b'x' => (2, 16, true),
        b'u' => (4, 16, false),
        b'U' => (8, 16, false),
        b'0'..=b'7' => (3, 8, true),
        _ => return Err("unknown escape sequence".into()),
    };
    let start = if esc == b'x' || esc == b'u' || esc == b'U' {
        2
    } else {
        1
    };
    let digits = s
        .get(start..start + n)
        .ok_or("escape sequence not terminated")?;
    let digits = std::str::from_utf8(digits).map_err(|_| "invalid escape")?;
    let v =
        u32::from_str_radix(digits, radix).map_err(|_| "invalid character in escape sequence")?;
    if byte && v > 255 {
        return Err("octal escape value > 255".into());
    }
    if !byte && char::from_u32(v).is_none() {
        return Err("escape sequence is invalid Unicode code point".into());
    }
    Ok((v, byte, start + n))
}

fn unquote_rune(text: &str) -> Result<u32, String> {
    let b = text.as_bytes();
    let inner = &b[1..b.len() - 1];
    if inner.is_empty() {
        return Err("empty rune literal or unescaped ' in rune literal".into());
    }
    let (v, _, n) = unquote_char(inner, b'\'')?;
    if n != inner.len() {
        return Err("more than one character in rune literal".into());
    }
    Ok(v)
}

/// An interpreted ("...") or raw (`...`) string literal's bytes.
fn unquote(text: &str) -> Result<Vec<u8>, String> {
    let b = text.as_bytes();
    let inner = &b[1..b.len() - 1];
    if b[0] == b'`' {
        return Ok(inner.iter().copied().filter(|&c| c != b'\r').collect());
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < inner.len() {
        let (v, byte, n) = unquote_char(&inner[i..], b'"')?;
        if byte {
            out.push(v as u8);
        } else {
            let c = char::from_u32(v).unwrap_or('\u{FFFD}');
            out.extend_from_slice(c.to_string().as_bytes());
        }
        i += n;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::Package;

    /// The messages for a file of declarations, without the file name.
    fn errs(decls: &str) -> Vec<String> {
        Package::check(&format!("package p\n{decls}\n"))
            .error_list()
            .into_iter()
            .map(|e| format!("{}:{}: {}", e.pos.line, e.pos.col, e.msg))
            .collect()
    }

    fn val(decls: &str, expr: &str) -> String {
        let mut p = Package::check(&format!("package p\n{decls}\n"));
        assert_eq!(p.errors("p.go"), "");
        p.println(expr).unwrap()
    }

    #[test]
    fn untyped_integers_are_exact_up_to_512_bits() {
        assert_eq!(val("const x = 1 << 100 >> 98", "x"), "4");
        assert_eq!(val("const m = 1<<511 - 1 + 1<<511", "m >> 511"), "1"); // 512 bits: fine
        assert_eq!(
            errs("const x = 1 << 512"),
            ["2:13: constant shift overflow"]
        );
        assert_eq!(
            errs("const x = 1<<511 + 1<<511"),
            ["2:18: constant addition overflow"]
        );
    }

    #[test]
    fn an_overflowed_constant_reports_once() {
        // The overflow leaves an unknown value, which every later use accepts silently.
        assert_eq!(
            errs("const x = 1 << 600\nconst y byte = x + 1"),
            ["2:13: constant shift overflow"]
        );
    }

    #[test]
    fn integer_division_truncates_and_float_division_is_exact() {
        assert_eq!(val("", "-7 / 2"), "-3");
        assert_eq!(val("", "-7 % 3"), "-1");
        assert_eq!(val("", "-7 >> 1"), "-4"); // a shift rounds down, a division towards 0
        assert_eq!(val("", "7 / 2.0"), "3.5");
        assert_eq!(val("", "1 / 3.0 * 3 == 1"), "true");
    }

    #[test]
    fn division_by_zero_is_a_compile_error() {
        assert_eq!(
            errs("const x = 1 / 0"),
            ["2:15: invalid operation: division by zero"]
        );
        assert_eq!(
            errs("const x = 1.0 / (2 - 2.0)"),
            ["2:17: invalid operation: division by zero"]
        );
    }

    #[test]
    fn shift_operand_may_be_a_whole_float() {
        assert_eq!(val("", "1.0 << 3"), "8");
        assert_eq!(
            errs("const x = 1.5 << 3"),
            ["2:11: invalid operation: shifted operand 1.5 (untyped float constant) must be integer"]
        );
    }

    #[test]
    fn shift_count_must_be_a_non_negative_uint_at_most_1074() {
        assert_eq!(
            errs("const x = 1 >> -1"),
            ["2:16: invalid operation: negative shift count -1 (untyped int constant)"]
        );
        assert_eq!(
            errs("const x = 1 >> 1.5"),
            ["2:16: 1.5 (untyped float constant) truncated to uint"]
        );
        assert_eq!(
            errs("const x = 0 << 1075"),
            ["2:16: invalid operation: invalid shift count 1075 (untyped int constant)"]
        );
        assert_eq!(val("", "0 << 1074"), "0");
    }

    #[test]
    fn typed_constants_must_stay_representable_after_every_operation() {
        assert_eq!(
            errs("const b byte = 255\nconst c = b + 1 - 1"),
            ["3:11: b + 1 (constant 256 of type byte) overflows byte"]
        );
        assert_eq!(val("const u = ^uint16(0)", "u"), "65535"); // ^ flips only 16 bits
    }

    #[test]
    fn assignment_says_overflows_or_truncated() {
        assert_eq!(
            errs("const b byte = 300"),
            ["2:16: cannot use 300 (untyped int constant) as byte value in constant declaration (overflows)"]
        );
        assert_eq!(
            errs("const i int = 2.5"),
            ["2:15: cannot use 2.5 (untyped float constant) as int value in constant declaration (truncated)"]
        );
    }

    #[test]
    fn integer_conversion_overflow_has_its_own_short_message() {
        assert_eq!(
            errs("const c = uint8(256)"),
            ["2:17: constant 256 overflows uint8"]
        );
        assert_eq!(
            errs("const c = uint8(2.5)"),
            ["2:17: cannot convert 2.5 (untyped float constant) to type uint8"]
        );
    }

    #[test]
    fn float32_conversion_rounds_and_overflows_past_max() {
        assert_eq!(val("", "float32(0.1)"), "0.1");
        assert_eq!(val("", "float64(float32(0.1))"), "0.10000000149011612");
        assert_eq!(
            errs("const f = float32(1e39)"),
            ["2:19: cannot convert 1e39 (untyped float constant 1e+39) to type float32"]
        );
    }

    #[test]
    fn runes_print_as_numbers_and_convert_to_strings() {
        assert_eq!(val("", "'a' + 1"), "98");
        assert_eq!(val("", "string('a' + 1)"), "b");
        assert_eq!(val("", "string(-1)"), "\u{FFFD}");
        assert_eq!(val("", "len(\"héllo\")"), "6"); // bytes, not runes
    }

    #[test]
    fn iota_counts_specs_and_empty_specs_repeat_the_last_one() {
        let d = "const (\n\t_ = iota\n\tKB = 1 << (10 * iota)\n\tMB\n\t_\n\tTB\n)";
        assert_eq!(val(d, "MB"), "1048576");
        assert_eq!(val(d, "TB"), "1099511627776");
    }

    #[test]
    fn errors_in_a_repeated_expression_point_at_the_name() {
        assert_eq!(
            errs("const (\n\ta int8 = iota * 100\n\tb\n\tc\n)"),
            ["5:2: cannot use iota * 100 (untyped int constant 200) as int8 value in constant declaration (overflows)"]
        );
    }

    #[test]
    fn mismatched_kinds_do_not_mix() {
        assert_eq!(
            errs("const x = \"a\" + 1"),
            ["2:11: invalid operation: \"a\" + 1 (mismatched types untyped string and untyped int)"]
        );
    }
}
