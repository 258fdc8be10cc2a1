//! The `.mm` format: a Go program cut down to what the memory model talks about.
//!
//! A program declares shared words and synchronization objects, then functions made of one
//! statement per line. Values exist only where control flow needs them (`if`, `await`); what
//! the race detector cares about is which goroutine touched which word, and which
//! synchronizing operations came in between.
//!
//! ```text
//! var x                # a plain word, 0 at start
//! chan c 0             # an unbuffered channel
//! func main {
//!     go writer
//!     recv c
//!     read x @B        # `@LABEL` names an access in race reports
//! }
//! func writer {
//!     write x @A
//!     send c
//! }
//! ```
//!
//! Declarations: `var`, `atomic` (words), `chan NAME CAP [empty]` (`empty`: element type
//! `struct{}`), `mutex`, `rwmutex`, `once`, `waitgroup`, `cond NAME MUTEX`. Statements:
//! `write X [V]`, `read X`, `if X ==|!= V { … } [else { … }]`, `store A V`, `load A`,
//! `add A D`, `await A V`, `send C`, `recv C`, `close C`, `lock M`, `unlock M`, `rlock RW`,
//! `runlock RW`, `once O F`, `wgadd WG N`, `done WG`, `wait WG`, `wggo WG F`, `signal CV`,
//! `broadcast CV`, `condwait CV`, `go F`, `call F`, `sleep`, `repeat N { … }`.
//!
//! `once`, `wggo` and `condwait` are not primitive: [`parse`] expands them into the steps
//! package sync takes (see [`desugar_once`]), so their happens-before edges come from the
//! same atomics and mutexes Go's own code uses.

use std::collections::HashMap;
use std::fmt;
use std::rc::Rc;

/// A position in the program text, and the label the programmer gave the statement there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    pub line: usize,
    pub label: Option<Rc<str>>,
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.label {
            Some(l) => write!(f, "@{l}"),
            None => write!(f, "@?line{}", self.line),
        }
    }
}

/// What a name refers to. Every kind has its own index space.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Obj {
    Var(usize),
    Chan(usize),
    Mutex(usize),
    RWMutex(usize),
    WaitGroup(usize),
    Cond(usize),
    Once(usize),
}

impl Obj {
    fn kind(self) -> &'static str {
        match self {
            Obj::Var(_) => "a var",
            Obj::Chan(_) => "a chan",
            Obj::Mutex(_) => "a mutex",
            Obj::RWMutex(_) => "an rwmutex",
            Obj::WaitGroup(_) => "a waitgroup",
            Obj::Cond(_) => "a cond",
            Obj::Once(_) => "a once",
        }
    }
}

#[derive(Clone, Debug)]
pub struct VarDecl {
    pub name: String,
    /// Declared with `atomic`: `if` reads it with an atomic load.
    pub atomic: bool,
}

#[derive(Clone, Debug)]
pub struct ChanDecl {
    pub name: String,
    pub cap: usize,
    /// Element type `struct{}`: the race detector keeps one sync object for the whole buffer.
    pub zero_size: bool,
}

/// One step a goroutine can take.
#[derive(Clone, Debug)]
pub enum Op {
    Write(usize, i64),
    Read(usize),
    Store(usize, i64),
    Load(usize),
    Add(usize, i64),
    Await(usize, i64),
    Send(usize),
    Recv(usize),
    Close(usize),
    Lock(usize),
    Unlock(usize),
    RLock(usize),
    RUnlock(usize),
    WLock(usize),
    WUnlock(usize),
    WgAdd(usize, i64),
    Wait(usize),
    Signal(usize),
    Broadcast(usize),
    /// The first half of Cond.Wait: take a ticket (runtime_notifyListAdd).
    CondTicket(usize),
    /// The second half: sleep until that ticket is notified (runtime_notifyListWait).
    CondSleep(usize),
    Go(usize),
    Call(usize),
    Sleep,
}

#[derive(Clone, Debug)]
pub enum Stmt {
    Op(Op, Site),
    If {
        var: usize,
        eq: bool,
        val: i64,
        then: Block,
        els: Block,
        site: Site,
    },
    Repeat(u32, Block),
}

pub type Block = Rc<[Stmt]>;

#[derive(Clone, Debug)]
pub struct Func {
    pub name: String,
    pub body: Block,
}

/// A parsed program. Objects that package sync keeps inside its types (Once's `done` and
/// `m`) are ordinary vars and mutexes here, named `o.done` and `o.m`.
#[derive(Clone, Debug, Default)]
pub struct Program {
    pub file: String,
    pub vars: Vec<VarDecl>,
    pub chans: Vec<ChanDecl>,
    pub mutexes: Vec<String>,
    pub rwmutexes: Vec<String>,
    pub waitgroups: Vec<String>,
    /// Each cond's name and the mutex it was declared with.
    pub conds: Vec<(String, usize)>,
    pub funcs: Vec<Func>,
    pub main: usize,
}

/// Why a program text was rejected: `file:line:col: message`, as Go's compiler says it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub file: String,
    pub line: usize,
    pub col: usize,
    pub msg: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: {}", self.file, self.line, self.col, self.msg)
    }
}

impl std::error::Error for Error {}

/// A word of the source with its 1-based column.
#[derive(Clone, Copy)]
struct Tok<'a> {
    text: &'a str,
    col: usize,
}

struct Line<'a> {
    no: usize,
    toks: Vec<Tok<'a>>,
    label: Option<Rc<str>>,
    /// Column just past the line's last character (where a missing word would go).
    end: usize,
}

fn lex(src: &str) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    for (i, raw) in src.lines().enumerate() {
        let text = raw.split('#').next().unwrap_or("");
        let mut toks = Vec::new();
        let mut start = None;
        for (j, ch) in text.char_indices().chain([(text.len(), ' ')]) {
            match (ch.is_whitespace(), start) {
                (false, None) => start = Some(j),
                (true, Some(s)) => {
                    toks.push(Tok {
                        text: &text[s..j],
                        col: s + 1,
                    });
                    start = None;
                }
                _ => {}
            }
        }
        let mut label = None;
        if let Some(last) = toks.last() {
            if let Some(l) = last.text.strip_prefix('@') {
                label = Some(Rc::from(l));
                toks.pop();
            }
        }
        if !toks.is_empty() {
            out.push(Line {
                no: i + 1,
                toks,
                label,
                end: text.trim_end().len() + 1,
            });
        }
    }
    out
}

struct Parser<'a> {
    file: String,
    lines: Vec<Line<'a>>,
    at: usize,
    names: HashMap<String, Obj>,
    onces: Vec<usize>,
    funcs: HashMap<String, usize>,
    prog: Program,
    /// Calls of functions not yet declared: (function name, line, col).
    forward: Vec<(String, usize, usize)>,
}

/// Parses a `.mm` program. `file` is used in error messages only.
pub fn parse(file: &str, src: &str) -> Result<Program, Error> {
    let mut p = Parser {
        file: file.to_string(),
        lines: lex(src),
        at: 0,
        names: HashMap::new(),
        onces: Vec::new(),
        funcs: HashMap::new(),
        prog: Program {
            file: file.to_string(),
            ..Program::default()
        },
        forward: Vec::new(),
    };
    // Functions may call functions declared after them: number them all first.
    let mut n = 0;
    for l in &p.lines {
        if l.toks[0].text == "func" && l.toks.len() >= 2 {
            p.funcs.entry(l.toks[1].text.to_string()).or_insert(n);
            n += 1;
        }
    }
    p.prog.funcs = vec![
        Func {
            name: String::new(),
            body: Rc::from(Vec::new()),
        };
        n
    ];
    p.top()?;
    if let Some((name, line, col)) = p.forward.first() {
        return Err(p.err_at(*line, *col, format!("undefined: {name}")));
    }
    p.prog.main = match p.funcs.get("main") {
        Some(&m) => m,
        None => return Err(p.err_at(1, 1, "function main is undeclared in the main package")),
    };
    Ok(p.prog)
}

impl<'a> Parser<'a> {
    fn err_at(&self, line: usize, col: usize, msg: impl Into<String>) -> Error {
        Error {
            file: self.file.clone(),
            line,
            col,
            msg: msg.into(),
        }
    }

    fn err(&self, l: &Line, col: usize, msg: impl Into<String>) -> Error {
        self.err_at(l.no, col, msg)
    }

    fn top(&mut self) -> Result<(), Error> {
        let mut defined = vec![false; self.prog.funcs.len()];
        while self.at < self.lines.len() {
            let l = &self.lines[self.at];
            let (no, kw) = (l.no, l.toks[0]);
            match kw.text {
                "func" => {
                    let name = match l.toks.get(1) {
                        Some(t) => *t,
                        None => {
                            return Err(self.err(l, l.end, "syntax error: missing function name"))
                        }
                    };
                    if l.toks.get(2).map(|t| t.text) != Some("{") || l.toks.len() > 3 {
                        return Err(self.err(
                            l,
                            name.col + name.text.len(),
                            "syntax error: expected `{` after the function name",
                        ));
                    }
                    let id = self.funcs[name.text];
                    if defined[id] {
                        return Err(self.err(
                            l,
                            name.col,
                            format!("{} redeclared in this block", name.text),
                        ));
                    }
                    defined[id] = true;
                    self.at += 1;
                    let body = self.block(no)?;
                    self.close_plain()?;
                    self.prog.funcs[id] = Func {
                        name: name.text.to_string(),
                        body,
                    };
                }
                _ => {
                    self.decl()?;
                    self.at += 1;
                }
            }
        }
        Ok(())
    }

    fn declare(&mut self, l: &Line, t: Tok, obj: Obj) -> Result<(), Error> {
        if !t
            .text
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '.')
            || t.text.starts_with(|c: char| c.is_ascii_digit())
        {
            return Err(self.err(
                l,
                t.col,
                format!("syntax error: `{}` is not a name", t.text),
            ));
        }
        if self.names.insert(t.text.to_string(), obj).is_some() {
            return Err(self.err(l, t.col, format!("{} redeclared in this block", t.text)));
        }
        Ok(())
    }

    fn decl(&mut self) -> Result<(), Error> {
        let l = &self.lines[self.at];
        let l = Line {
            no: l.no,
            toks: l.toks.clone(),
            label: None,
            end: l.end,
        };
        let kw = l.toks[0];
        let args = &l.toks[1..];
        if args.is_empty() {
            return Err(self.err(
                &l,
                l.end,
                format!("syntax error: `{}` needs a name", kw.text),
            ));
        }
        match kw.text {
            "var" | "atomic" => {
                for &t in args {
                    let id = self.prog.vars.len();
                    self.declare(&l, t, Obj::Var(id))?;
                    self.prog.vars.push(VarDecl {
                        name: t.text.to_string(),
                        atomic: kw.text == "atomic",
                    });
                }
            }
            "chan" => {
                let cap = args
                    .get(1)
                    .and_then(|t| t.text.parse::<usize>().ok())
                    .ok_or_else(|| {
                        self.err(
                            &l,
                            args.get(1).map_or(l.end, |t| t.col),
                            "syntax error: `chan NAME CAP [empty]` needs a capacity",
                        )
                    })?;
                let zero_size = match args.get(2).map(|t| t.text) {
                    None => false,
                    Some("empty") if args.len() == 3 => true,
                    Some(_) => {
                        return Err(self.err(
                            &l,
                            args[2].col,
                            "syntax error: after the capacity only `empty` may follow",
                        ))
                    }
                };
                let id = self.prog.chans.len();
                self.declare(&l, args[0], Obj::Chan(id))?;
                self.prog.chans.push(ChanDecl {
                    name: args[0].text.to_string(),
                    cap,
                    zero_size,
                });
            }
            "mutex" | "rwmutex" | "waitgroup" => {
                for &t in args {
                    let obj = match kw.text {
                        "mutex" => Obj::Mutex(self.new_mutex(t.text)),
                        "rwmutex" => {
                            self.prog.rwmutexes.push(t.text.to_string());
                            Obj::RWMutex(self.prog.rwmutexes.len() - 1)
                        }
                        _ => {
                            self.prog.waitgroups.push(t.text.to_string());
                            Obj::WaitGroup(self.prog.waitgroups.len() - 1)
                        }
                    };
                    self.declare(&l, t, obj)?;
                }
            }
            "once" => {
                for &t in args {
                    // sync.Once is a done flag and a mutex (sync/once.go).
                    let done = self.prog.vars.len();
                    self.prog.vars.push(VarDecl {
                        name: format!("{}.done", t.text),
                        atomic: true,
                    });
                    self.new_mutex(&format!("{}.m", t.text));
                    self.onces.push(done);
                    self.declare(&l, t, Obj::Once(self.onces.len() - 1))?;
                }
            }
            "cond" => {
                if args.len() != 2 {
                    return Err(self.err(&l, args[0].col, "syntax error: `cond NAME MUTEX`"));
                }
                let mu = match self.names.get(args[1].text) {
                    Some(Obj::Mutex(m)) => *m,
                    _ => {
                        return Err(self.err(
                            &l,
                            args[1].col,
                            format!("{} is not a mutex", args[1].text),
                        ))
                    }
                };
                self.prog.conds.push((args[0].text.to_string(), mu));
                self.declare(&l, args[0], Obj::Cond(self.prog.conds.len() - 1))?;
            }
            other => {
                return Err(self.err(
                    &l,
                    kw.col,
                    format!("syntax error: unexpected `{other}` outside a function"),
                ));
            }
        }
        Ok(())
    }

    /// Consumes a `}` that must stand alone (only an `if` may go on with `else`).
    fn close_plain(&mut self) -> Result<(), Error> {
        let l = &self.lines[self.at];
        if l.toks.len() > 1 {
            return Err(self.err(
                l,
                l.toks[1].col,
                format!("syntax error: unexpected `{}` after `}}`", l.toks[1].text),
            ));
        }
        self.at += 1;
        Ok(())
    }

    fn new_mutex(&mut self, name: &str) -> usize {
        self.prog.mutexes.push(name.to_string());
        self.prog.mutexes.len() - 1
    }

    /// Statements up to the matching `}` (which it consumes).
    fn block(&mut self, opened: usize) -> Result<Block, Error> {
        let mut out = Vec::new();
        loop {
            let Some(l) = self.lines.get(self.at) else {
                let end = self.lines.last().map_or(1, |l| l.no);
                return Err(self.err_at(end, 1, format!("syntax error: unexpected end of file: the `{{` on line {opened} is never closed")));
            };
            if l.toks[0].text == "}" {
                if l.toks.len() > 1 && l.toks[1].text != "else" {
                    return Err(self.err(
                        l,
                        l.toks[1].col,
                        "syntax error: unexpected text after `}`",
                    ));
                }
                return Ok(Rc::from(out));
            }
            out.push(self.stmt()?);
        }
    }

    fn lookup(&self, l: &Line<'a>, i: usize) -> Result<(Obj, Tok<'a>), Error> {
        let t = *l.toks.get(i).ok_or_else(|| {
            self.err(
                l,
                l.end,
                format!("syntax error: `{}` needs an operand", l.toks[0].text),
            )
        })?;
        match self.names.get(t.text) {
            Some(&o) => Ok((o, t)),
            None => Err(self.err(l, t.col, format!("undefined: {}", t.text))),
        }
    }

    fn int(&self, l: &Line, i: usize, default: Option<i64>) -> Result<i64, Error> {
        match (l.toks.get(i), default) {
            (None, Some(d)) => Ok(d),
            (None, None) => Err(self.err(
                l,
                l.end,
                format!("syntax error: `{}` needs a number", l.toks[0].text),
            )),
            (Some(t), _) => t.text.parse().map_err(|_| {
                self.err(
                    l,
                    t.col,
                    format!("syntax error: `{}` is not an integer", t.text),
                )
            }),
        }
    }

    fn func_ref(&mut self, l: &Line, i: usize) -> Result<usize, Error> {
        let t = *l.toks.get(i).ok_or_else(|| {
            self.err(
                l,
                l.end,
                format!("syntax error: `{}` needs a function", l.toks[0].text),
            )
        })?;
        match self.funcs.get(t.text) {
            Some(&f) => Ok(f),
            None => {
                self.forward.push((t.text.to_string(), l.no, t.col));
                Ok(usize::MAX)
            }
        }
    }

    fn stmt(&mut self) -> Result<Stmt, Error> {
        let line = &self.lines[self.at];
        let l = Line {
            no: line.no,
            toks: line.toks.clone(),
            label: line.label.clone(),
            end: line.end,
        };
        self.at += 1;
        let site = Site {
            line: l.no,
            label: l.label.clone(),
        };
        let kw = l.toks[0];
        let want = |p: &Self, n: usize| -> Result<(), Error> {
            if l.toks.len() > n {
                Err(p.err(
                    &l,
                    l.toks[n].col,
                    format!(
                        "syntax error: unexpected `{}` at the end of `{}`",
                        l.toks[n].text, kw.text
                    ),
                ))
            } else {
                Ok(())
            }
        };
        let expect = |p: &Self, o: Obj, t: Tok, kind: &str| -> Result<usize, Error> {
            let idx = match o {
                Obj::Var(i)
                | Obj::Chan(i)
                | Obj::Mutex(i)
                | Obj::RWMutex(i)
                | Obj::WaitGroup(i)
                | Obj::Cond(i)
                | Obj::Once(i) => i,
            };
            if o.kind() == kind {
                Ok(idx)
            } else {
                Err(p.err(
                    &l,
                    t.col,
                    format!(
                        "{} is {}, not {kind} (`{}` needs {kind})",
                        t.text,
                        o.kind(),
                        kw.text
                    ),
                ))
            }
        };
        let op = |o: Op| Ok(Stmt::Op(o, site.clone()));
        match kw.text {
            "write" | "read" | "store" | "load" | "add" | "await" => {
                let (o, t) = self.lookup(&l, 1)?;
                let v = expect(self, o, t, "a var")?;
                let (n, val) = match kw.text {
                    "write" => (3, self.int(&l, 2, Some(1))?),
                    "read" | "load" => (2, 0),
                    _ => (3, self.int(&l, 2, None)?),
                };
                want(self, n)?;
                op(match kw.text {
                    "write" => Op::Write(v, val),
                    "read" => Op::Read(v),
                    "store" => Op::Store(v, val),
                    "load" => Op::Load(v),
                    "add" => Op::Add(v, val),
                    _ => Op::Await(v, val),
                })
            }
            "send" | "recv" | "close" => {
                let (o, t) = self.lookup(&l, 1)?;
                let c = expect(self, o, t, "a chan")?;
                want(self, 2)?;
                op(match kw.text {
                    "send" => Op::Send(c),
                    "recv" => Op::Recv(c),
                    _ => Op::Close(c),
                })
            }
            "lock" | "unlock" => {
                let (o, t) = self.lookup(&l, 1)?;
                want(self, 2)?;
                match (o, kw.text) {
                    (Obj::Mutex(m), "lock") => op(Op::Lock(m)),
                    (Obj::Mutex(m), _) => op(Op::Unlock(m)),
                    (Obj::RWMutex(m), "lock") => op(Op::WLock(m)),
                    (Obj::RWMutex(m), _) => op(Op::WUnlock(m)),
                    _ => Err(self.err(
                        &l,
                        t.col,
                        format!(
                            "{} is {}, not a mutex (`{}` needs a mutex or an rwmutex)",
                            t.text,
                            o.kind(),
                            kw.text
                        ),
                    )),
                }
            }
            "rlock" | "runlock" => {
                let (o, t) = self.lookup(&l, 1)?;
                let m = expect(self, o, t, "an rwmutex")?;
                want(self, 2)?;
                op(if kw.text == "rlock" {
                    Op::RLock(m)
                } else {
                    Op::RUnlock(m)
                })
            }
            "wgadd" | "done" | "wait" => {
                let (o, t) = self.lookup(&l, 1)?;
                let wg = expect(self, o, t, "a waitgroup")?;
                match kw.text {
                    "wgadd" => {
                        let n = self.int(&l, 2, None)?;
                        want(self, 3)?;
                        op(Op::WgAdd(wg, n))
                    }
                    "done" => {
                        want(self, 2)?;
                        op(Op::WgAdd(wg, -1))
                    }
                    _ => {
                        want(self, 2)?;
                        op(Op::Wait(wg))
                    }
                }
            }
            "signal" | "broadcast" | "condwait" => {
                let (o, t) = self.lookup(&l, 1)?;
                let c = expect(self, o, t, "a cond")?;
                want(self, 2)?;
                match kw.text {
                    "signal" => op(Op::Signal(c)),
                    "broadcast" => op(Op::Broadcast(c)),
                    _ => {
                        // sync/cond.go Wait: take a ticket, unlock, sleep, lock again.
                        let mu = self.prog.conds[c].1;
                        Ok(Stmt::Repeat(
                            1,
                            Rc::from(vec![
                                Stmt::Op(Op::CondTicket(c), site.clone()),
                                Stmt::Op(Op::Unlock(mu), site.clone()),
                                Stmt::Op(Op::CondSleep(c), site.clone()),
                                Stmt::Op(Op::Lock(mu), site.clone()),
                            ]),
                        ))
                    }
                }
            }
            "once" => {
                let (o, t) = self.lookup(&l, 1)?;
                let once = expect(self, o, t, "a once")?;
                let f = self.func_ref(&l, 2)?;
                want(self, 3)?;
                let done = self.onces[once];
                let m = self
                    .prog
                    .mutexes
                    .iter()
                    .position(|n| *n == format!("{}.m", t.text))
                    .expect("declared with the once");
                Ok(desugar_once(done, m, f, site))
            }
            "wggo" => {
                let (o, t) = self.lookup(&l, 1)?;
                let wg = expect(self, o, t, "a waitgroup")?;
                let f = self.func_ref(&l, 2)?;
                want(self, 3)?;
                // sync/waitgroup.go Go: Add(1), then a goroutine that runs f and then Done.
                let body: Block = Rc::from(vec![
                    Stmt::Op(Op::Call(f), site.clone()),
                    Stmt::Op(Op::WgAdd(wg, -1), site.clone()),
                ]);
                let id = self.prog.funcs.len();
                self.prog.funcs.push(Func {
                    name: format!("{}.Go.func", self.prog.waitgroups[wg]),
                    body,
                });
                Ok(Stmt::Repeat(
                    1,
                    Rc::from(vec![
                        Stmt::Op(Op::WgAdd(wg, 1), site.clone()),
                        Stmt::Op(Op::Go(id), site),
                    ]),
                ))
            }
            "go" | "call" => {
                let f = self.func_ref(&l, 1)?;
                want(self, 2)?;
                op(if kw.text == "go" {
                    Op::Go(f)
                } else {
                    Op::Call(f)
                })
            }
            "sleep" => {
                want(self, 1)?;
                op(Op::Sleep)
            }
            "repeat" => {
                let n = self.int(&l, 1, None)?;
                if !(0..=1_000_000).contains(&n) {
                    return Err(self.err(
                        &l,
                        l.toks[1].col,
                        "repeat count must be between 0 and 1000000",
                    ));
                }
                if l.toks.get(2).map(|t| t.text) != Some("{") || l.toks.len() > 3 {
                    return Err(self.err(&l, l.end, "syntax error: `repeat N {`"));
                }
                let body = self.block(l.no)?;
                self.close_plain()?;
                Ok(Stmt::Repeat(n as u32, body))
            }
            "if" => {
                let (o, t) = self.lookup(&l, 1)?;
                let var = expect(self, o, t, "a var")?;
                let eq = match l.toks.get(2).map(|t| t.text) {
                    Some("==") => true,
                    Some("!=") => false,
                    _ => {
                        return Err(self.err(
                            &l,
                            l.toks.get(2).map_or(l.end, |t| t.col),
                            "syntax error: `if X == V {` or `if X != V {`",
                        ))
                    }
                };
                let val = self.int(&l, 3, None)?;
                if l.toks.get(4).map(|t| t.text) != Some("{") || l.toks.len() > 5 {
                    return Err(self.err(
                        &l,
                        l.end,
                        "syntax error: `{` expected at the end of `if`",
                    ));
                }
                let then = self.block(l.no)?;
                let close = &self.lines[self.at];
                let els = if close.toks.get(1).map(|t| t.text) == Some("else") {
                    if close.toks.get(2).map(|t| t.text) != Some("{") || close.toks.len() > 3 {
                        return Err(self.err(close, close.end, "syntax error: `} else {`"));
                    }
                    let opened = close.no;
                    self.at += 1;
                    self.block(opened)?
                } else {
                    Rc::from(Vec::new())
                };
                self.at += 1;
                Ok(Stmt::If {
                    var,
                    eq,
                    val,
                    then,
                    els,
                    site,
                })
            }
            other => Err(self.err(
                &l,
                kw.col,
                format!("syntax error: unknown statement `{other}`"),
            )),
        }
    }
}

// ANCHOR: desugar_once
/// `o.Do(f)` the way sync/once.go writes it: a fast path that loads `done` atomically, and a
/// slow path under `m` that checks again, runs f, and stores `done` before unlocking (the
/// deferred Store runs before the deferred Unlock). Every edge a Once gives comes from here.
pub fn desugar_once(done: usize, m: usize, f: usize, site: Site) -> Stmt {
    let s = |op| Stmt::Op(op, site.clone());
    let slow: Block = Rc::from(vec![
        s(Op::Lock(m)),
        Stmt::If {
            var: done,
            eq: true,
            val: 0,
            then: Rc::from(vec![s(Op::Call(f)), s(Op::Store(done, 1))]),
            els: Rc::from(Vec::new()),
            site: site.clone(),
        },
        s(Op::Unlock(m)),
    ]);
    Stmt::If {
        var: done,
        eq: true,
        val: 0,
        then: slow,
        els: Rc::from(Vec::new()),
        site,
    }
}
// ANCHOR_END: desugar_once

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_program_parses_into_funcs_and_objects() {
        let p = parse(
            "mp.mm",
            "var x\nchan c 0\nfunc main {\n  go w\n  recv c\n  read x @B\n}\nfunc w {\n  write x @A\n  send c\n}\n",
        )
        .unwrap();
        assert_eq!(p.funcs.len(), 2);
        assert_eq!(p.funcs[p.main].name, "main");
        assert_eq!(p.chans[0].cap, 0);
        match &p.funcs[1].body[0] {
            Stmt::Op(Op::Write(0, 1), site) => assert_eq!(site.to_string(), "@A"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn errors_name_the_file_line_and_column() {
        let e = parse("bad.mm", "var x\nfunc main {\n  lock x\n}\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "bad.mm:3:8: x is a var, not a mutex (`lock` needs a mutex or an rwmutex)"
        );
        let e = parse("bad.mm", "func main {\n  go nowhere\n}\n").unwrap_err();
        assert_eq!(e.to_string(), "bad.mm:2:6: undefined: nowhere");
        let e = parse("bad.mm", "var x\n").unwrap_err();
        assert!(e.msg.contains("function main is undeclared"), "{e}");
        let e = parse("bad.mm", "func main {\n  read x\n").unwrap_err();
        assert!(e.to_string().starts_with("bad.mm:2:8: undefined: x"), "{e}");
        let e = parse("bad.mm", "func main {\n  write\n}\n").unwrap_err();
        assert!(e.msg.contains("needs an operand"), "{e}");
        let e = parse("bad.mm", "func main {\n  sleep\n").unwrap_err();
        assert!(e.msg.contains("never closed"), "{e}");
    }

    proptest::proptest! {
        /// Whatever the text, the parser answers with a program or an error, never a panic.
        #[test]
        fn no_input_makes_the_parser_panic(words in proptest::collection::vec(
            proptest::sample::select(vec!["var", "x", "func", "main", "{", "}", "\n", "if", "==", "1",
                "else", "repeat", "-3", "write", "once", "o", "chan", "c", "empty", "@A", "go", "cond", "mutex", "m", "condwait", "wggo", "waitgroup"]), 0..40)) {
            let src = words.join(" ");
            let _ = parse("fuzz.mm", &src);
        }
    }
}
