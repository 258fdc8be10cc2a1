package main

// The corpus: constant declarations the compiler accepts. main.go prints every entry of
// cases as "NAME = VALUE" with fmt.Println's formatting; the Rust crate reads this same file
// (include_str!), evaluates the declarations and prints the same lines.

// Huge intermediates: untyped integers are exact up to 512 bits, whatever the final value.
const (
	Huge      = 1 << 100 >> 98
	Huge2     = (1<<500 + 1) % 1000
	Huge3     = (1<<511 - 1 + 1<<511) >> 509
	Huge4     = (1 << 300) / (1 << 298)
	Max512    = 1<<511 - 1 + 1<<511
	Max512Div = Max512 / (1<<510 + 0)
	Neg512    = -Max512 >> 509
	Mul       = 123456789123456789 * 987654321987654321 / 1000000000000000000000000000
	Complement = ^0
	NotBig    = ^(1<<100) >> 90
	AndNot    = 0xff &^ 0x0f
	Xor       = 0b1010 ^ 0o17
	Rem       = -7 % 3
	Quo       = -7 / 2
	Shr       = -7 >> 1
	Sep       = 1_000_000 + 0x_ff + 0b_1 + 0o_7 + 017
)

// Exact floats: rationals, not float64s.
const (
	Tenth      = 0.1 + 0.2 == 0.3
	Tenth64    = float64(0.1)+float64(0.2) == float64(0.3)
	Third      = 1 / 3.0 * 3
	ThirdEq    = 1/3.0*3 == 1
	BigRatio   = 1e400 / 1e399
	Tiny       = 1e-400 * 1e400
	IntDiv     = 7 / 2
	FloatDiv   = 7 / 2.0
	RuneDiv    = 'a' / 2
	MixedDiv   = 7.0 / 2
	HexFloat   = 0x1p-2
	HexFloat2  = 0x1.8p1
	HexFloat3  = 0X_1FFFP-16
	Exp        = 1e3
	Million    = 1e6
	BigF       = 1e21
	Small      = 1e-5
	Small2     = 0.0001
	Pi         = 3.14159265358979323846264338327950288419716939937510582097494459
	PiRound    = Pi * 1e10 / 1e10
	MaxF64     = 1.79769313486231570814527423731704356798070e+308
	SmallestF  = 4.9406564584124654417656879286822137236505980e-324
	Half       = 0.5
	Sqrt2Sq    = 1.41421356237 * 1.41421356237
	FloatShift = 1.0 << 3
	FloatShift2 = 2.5e2 >> 2
	FloatToInt = int(5e2)
	Negative   = -0.0
	NegFloat   = -1.5e-7
	OneThird64 = float64(1) / 3
	F32        = float32(0.1)
	F32Max     = float32(3.4028234663852886e38)
	F32Third   = float32(1) / 3
	F64Max     = float64(MaxF64)
	FCmp       = 1e100 > 1<<300
	Ratio      = 22.0 / 7
)

// iota: the index of the spec in its group; an empty spec repeats the one above.

const (
	_  = iota
	KB = 1 << (10 * iota)
	MB
	GB
	TB
	PB
	EB
	ZB
	YB
)

const (
	A0, B0 = iota, iota * 10
	A1, B1
	_, _
	A3, B3
)

const (
	Skip0 = iota * iota
	_
	Skip2
	Skip3 = "s"
	Skip4
	Skip5 = iota + 0.5
)

const (
	Bit0 uint8 = 1 << iota
	Bit1
	Bit7 = Bit0 << 7
	Mask = Bit1 | Bit7
	NotMask = ^Mask
)

// Runes, strings, len.
const (
	RuneA     = 'a'
	RuneB     = 'a' + 1
	RuneStr   = string('a' + 1)
	RuneStr2  = string(rune(0x4e16))
	BadRune   = string(rune(-1))
	Surrogate = string(rune(0xD800))
	Esc       = '\n' + '\t' + '\x7f' + '\u00e9' + '\U0001F600' + '\'' + '\\' + '\101'
	Hello     = "hello, " + "world"
	Raw       = `a\nb` + "\"q\""
	Len       = len("héllo")
	LenRaw    = len(`a\nb`)
	LenSum    = len("ab"+"cd") * 2
	StrEq     = "abc" < "abd"
	StrEq2    = "a"+"b" == "ab"
	Unicode   = "\u65e5本\U00008a9e"
	Bytes     = "\xc3\xa9\x41"
	RuneF     = 'a' * 1.5
	RuneMax   = '\U0010FFFF'
)

// Typed constants and conversions.
const (
	B8      byte   = 255
	B8Sum          = B8 - 1 + 1
	I8      int8   = -128
	U16            = uint16(1<<16 - 1)
	U64            = uint64(1<<64 - 1)
	I64            = int64(-1 << 63)
	Uptr           = uintptr(1 << 63)
	UComp          = ^uint32(0)
	UComp8         = ^uint8(1)
	IComp          = ^int8(1)
	IntConv        = int(-7.0 / 2 * 2)
	TypedDiv       = int(7) / 2
	TypedF         = float64(7) / 2
	F32Sum  float32 = 0.1 + 0.2
	F32Eq          = F32Sum == 0.3
	Typed1  int    = 'x'
	TypedR  rune   = 'x'
	Rune2          = TypedR + 1
	Str     string = "typed"
	Bool    bool   = 1 < 2
	BoolOp         = Bool && !false || 1 > 2
	NotEq          = 1 != 1.0
	Cmp            = 'a' <= 97.0
	IntOfF         = int64(1e18)
	Shift64        = int64(1) << 62
	ShiftU         = uint(1) << 63 >> 62
	ShiftR         = -1 >> 100
	Paren          = ((((1)))) + (2)
	Unary          = - -+1
	Not            = !!true
)

var cases = []struct {
	name  string
	value any
}{
	{"Huge", Huge},
	{"Huge2", Huge2},
	{"Huge3", Huge3},
	{"Huge4", Huge4},
	{"Max512Div", Max512Div},
	{"Neg512", Neg512},
	{"Mul", Mul},
	{"Complement", Complement},
	{"NotBig", NotBig},
	{"AndNot", AndNot},
	{"Xor", Xor},
	{"Rem", Rem},
	{"Quo", Quo},
	{"Shr", Shr},
	{"Sep", Sep},
	{"Tenth", Tenth},
	{"Tenth64", Tenth64},
	{"Third", Third},
	{"ThirdEq", ThirdEq},
	{"BigRatio", BigRatio},
	{"Tiny", Tiny},
	{"IntDiv", IntDiv},
	{"FloatDiv", FloatDiv},
	{"RuneDiv", RuneDiv},
	{"MixedDiv", MixedDiv},
	{"HexFloat", HexFloat},
	{"HexFloat2", HexFloat2},
	{"HexFloat3", HexFloat3},
	{"Exp", Exp},
	{"Million", Million},
	{"BigF", BigF},
	{"Small", Small},
	{"Small2", Small2},
	{"Pi", Pi},
	{"PiRound", PiRound},
	{"MaxF64", MaxF64},
	{"SmallestF", SmallestF},
	{"Half", Half},
	{"Sqrt2Sq", Sqrt2Sq},
	{"FloatShift", FloatShift},
	{"FloatShift2", FloatShift2},
	{"FloatToInt", FloatToInt},
	{"Negative", Negative},
	{"NegFloat", NegFloat},
	{"OneThird64", OneThird64},
	{"F32", F32},
	{"F32Max", F32Max},
	{"F32Third", F32Third},
	{"F64Max", F64Max},
	{"FCmp", FCmp},
	{"Ratio", Ratio},
	{"KB", KB},
	{"MB", MB},
	{"GB", GB},
	{"TB", TB},
	{"PB", PB},
	{"EB", EB},
	{"ZB/YB", ZB / YB},
	{"YB>>70", YB >> 70},
	{"A0", A0},
	{"B0", B0},
	{"A1", A1},
	{"B1", B1},
	{"A3", A3},
	{"B3", B3},
	{"Skip0", Skip0},
	{"Skip2", Skip2},
	{"Skip3", Skip3},
	{"Skip4", Skip4},
	{"Skip5", Skip5},
	{"Bit0", Bit0},
	{"Bit1", Bit1},
	{"Bit7", Bit7},
	{"Mask", Mask},
	{"NotMask", NotMask},
	{"RuneA", RuneA},
	{"RuneB", RuneB},
	{"RuneStr", RuneStr},
	{"RuneStr2", RuneStr2},
	{"BadRune", BadRune},
	{"Surrogate", Surrogate},
	{"Esc", Esc},
	{"Hello", Hello},
	{"Raw", Raw},
	{"Len", Len},
	{"LenRaw", LenRaw},
	{"LenSum", LenSum},
	{"StrEq", StrEq},
	{"StrEq2", StrEq2},
	{"Unicode", Unicode},
	{"Bytes", Bytes},
	{"RuneF", RuneF},
	{"RuneMax", RuneMax},
	{"B8", B8},
	{"B8Sum", B8Sum},
	{"I8", I8},
	{"U16", U16},
	{"U64", U64},
	{"I64", I64},
	{"Uptr", Uptr},
	{"UComp", UComp},
	{"UComp8", UComp8},
	{"IComp", IComp},
	{"IntConv", IntConv},
	{"TypedDiv", TypedDiv},
	{"TypedF", TypedF},
	{"F32Sum", F32Sum},
	{"F32Eq", F32Eq},
	{"Typed1", Typed1},
	{"TypedR", TypedR},
	{"Rune2", Rune2},
	{"Str", Str},
	{"Bool", Bool},
	{"BoolOp", BoolOp},
	{"NotEq", NotEq},
	{"Cmp", Cmp},
	{"IntOfF", IntOfF},
	{"Shift64", Shift64},
	{"ShiftU", ShiftU},
	{"ShiftR", ShiftR},
	{"Paren", Paren},
	{"Unary", Unary},
	{"Not", Not},
}
