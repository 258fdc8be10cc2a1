//! Go: cmd/compile/internal/types2/{basic.go,universe.go,predicates.go} — the basic types a
//! constant can have, untyped ones included, and their predicates.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Bool,
    String,
    Int,
    Int8,
    Int16,
    Int32,
    Int64,
    Uint,
    Uint8,
    Uint16,
    Uint32,
    Uint64,
    Uintptr,
    Float32,
    Float64,
    UntypedBool,
    UntypedString,
    // In this order: an untyped operation's result has the later kind (types2: maxType).
    UntypedInt,
    UntypedRune,
    UntypedFloat,
}

/// Go: *types2.Basic. `name` keeps the alias a program wrote: `byte` is `uint8`, `rune` is
/// `int32`, identical types with their own names in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Type {
    pub kind: Kind,
    pub name: &'static str,
}

const UNIVERSE: [(&str, Kind); 17] = [
    ("bool", Kind::Bool),
    ("string", Kind::String),
    ("int", Kind::Int),
    ("int8", Kind::Int8),
    ("int16", Kind::Int16),
    ("int32", Kind::Int32),
    ("int64", Kind::Int64),
    ("uint", Kind::Uint),
    ("uint8", Kind::Uint8),
    ("uint16", Kind::Uint16),
    ("uint32", Kind::Uint32),
    ("uint64", Kind::Uint64),
    ("uintptr", Kind::Uintptr),
    ("float32", Kind::Float32),
    ("float64", Kind::Float64),
    ("byte", Kind::Uint8),
    ("rune", Kind::Int32),
];

impl Type {
    /// The predeclared type of that name (the untyped ones cannot be written).
    pub fn lookup(name: &str) -> Option<Type> {
        UNIVERSE
            .iter()
            .find(|(n, _)| *n == name)
            .map(|&(name, kind)| Type { kind, name })
    }
    pub const fn untyped(kind: Kind) -> Type {
        let name = match kind {
            Kind::UntypedBool => "untyped bool",
            Kind::UntypedString => "untyped string",
            Kind::UntypedInt => "untyped int",
            Kind::UntypedRune => "untyped rune",
            _ => "untyped float",
        };
        Type { kind, name }
    }
    /// Go: Default — the type an untyped constant gets where a type is needed.
    pub fn default(self) -> Type {
        let name = match self.kind {
            Kind::UntypedBool => "bool",
            Kind::UntypedString => "string",
            Kind::UntypedInt => "int",
            Kind::UntypedRune => "rune",
            Kind::UntypedFloat => "float64",
            _ => return self,
        };
        Type::lookup(name).expect("predeclared")
    }
    pub fn identical(self, o: Type) -> bool {
        self.kind == o.kind
    }
    pub fn is_untyped(self) -> bool {
        self.kind >= Kind::UntypedBool
    }
    pub fn is_integer(self) -> bool {
        matches!(
            self.kind,
            Kind::Int
                | Kind::Int8
                | Kind::Int16
                | Kind::Int32
                | Kind::Int64
                | Kind::Uint
                | Kind::Uint8
                | Kind::Uint16
                | Kind::Uint32
                | Kind::Uint64
                | Kind::Uintptr
                | Kind::UntypedInt
                | Kind::UntypedRune
        )
    }
    pub fn is_unsigned(self) -> bool {
        matches!(
            self.kind,
            Kind::Uint | Kind::Uint8 | Kind::Uint16 | Kind::Uint32 | Kind::Uint64 | Kind::Uintptr
        )
    }
    pub fn is_float(self) -> bool {
        matches!(
            self.kind,
            Kind::Float32 | Kind::Float64 | Kind::UntypedFloat
        )
    }
    pub fn is_numeric(self) -> bool {
        self.is_integer() || self.is_float()
    }
    pub fn is_string(self) -> bool {
        matches!(self.kind, Kind::String | Kind::UntypedString)
    }
    pub fn is_boolean(self) -> bool {
        matches!(self.kind, Kind::Bool | Kind::UntypedBool)
    }
    pub fn is_ordered(self) -> bool {
        self.is_numeric() || self.is_string()
    }
    /// Go: Config.sizeof for an integer type, in bits (int, uint and uintptr as on amd64).
    pub fn bits(self) -> Option<(u32, bool)> {
        Some(match self.kind {
            Kind::Int8 => (8, true),
            Kind::Int16 => (16, true),
            Kind::Int32 => (32, true),
            Kind::Int | Kind::Int64 => (64, true),
            Kind::Uint8 => (8, false),
            Kind::Uint16 => (16, false),
            Kind::Uint32 => (32, false),
            Kind::Uint | Kind::Uint64 | Kind::Uintptr => (64, false),
            _ => return None,
        })
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}
