package mysqltype

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/imbundle/imbundle/bundle"
)

// QuoteIdent quotes a MySQL identifier with backticks.
func QuoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// Encoder writes rows of a bundle's record batches back in the forms the
// server loads: LOAD DATA text (tab-separated, backslash-escaped, loaded
// with CHARACTER SET binary) or SQL tuples for INSERT. Generated columns
// and raw-date companions are not loaded; a date whose typed value is NULL
// and whose companion holds text is written as that text.
type Encoder struct {
	targets []Target
	load    []int // indexes of the fields written, in order
	arrs    []arrow.Array
	varlen  []bundle.VarLen // the string and binary fields of arrs
}

// NewEncoder prepares an encoder for records of schema s.
func NewEncoder(s *arrow.Schema) (*Encoder, error) {
	ts, err := Targets(s)
	if err != nil {
		return nil, err
	}
	e := &Encoder{targets: ts}
	for i, t := range ts {
		if t.Generated || t.RawOf != "" {
			continue
		}
		e.load = append(e.load, i)
	}
	if len(e.load) == 0 {
		return nil, fmt.Errorf("no loadable column in schema")
	}
	return e, nil
}

// Columns names the target columns written, in order.
func (e *Encoder) Columns() []string {
	out := make([]string, len(e.load))
	for i, f := range e.load {
		out[i] = e.targets[f].Field.Name
	}
	return out
}

// InsertColumns is the column list of an INSERT: "(`a`, `b`)".
func (e *Encoder) InsertColumns() string {
	q := make([]string, len(e.load))
	for i, n := range e.Columns() {
		q[i] = QuoteIdent(n)
	}
	return "(" + strings.Join(q, ", ") + ")"
}

// LoadDataColumns gives the column list and SET clause of a LOAD DATA
// statement. BIT values travel as decimal text and need CAST (LOAD DATA
// would store the characters' bytes); JSON, UUID and INET values need a
// character set (Target.AsText).
func (e *Encoder) LoadDataColumns() (list, set string) {
	var l, s []string
	for i, f := range e.load {
		t := &e.targets[f]
		name := QuoteIdent(t.Field.Name)
		v := "@c" + strconv.Itoa(i)
		switch {
		case t.Kind == KindBit:
			l = append(l, v)
			s = append(s, name+" = CAST("+v+" AS UNSIGNED)")
		case t.AsText:
			l = append(l, v)
			s = append(s, name+" = CONVERT("+v+" USING utf8mb4)")
		default:
			l = append(l, name)
		}
	}
	list = "(" + strings.Join(l, ", ") + ")"
	if len(s) > 0 {
		set = " SET " + strings.Join(s, ", ")
	}
	return list, set
}

// Bind makes rec the record the Append methods read. rec must have the
// schema the encoder was made for.
func (e *Encoder) Bind(rec arrow.RecordBatch) {
	e.arrs = rec.Columns()
	e.varlen = e.varlen[:0]
	for _, a := range e.arrs {
		v, _ := bundle.AsVarLen(a) // Targets checked the types
		e.varlen = append(e.varlen, v)
	}
}

// AppendText appends row i as one LOAD DATA line.
func (e *Encoder) AppendText(dst []byte, row int) []byte {
	for n, f := range e.load {
		if n > 0 {
			dst = append(dst, '\t')
		}
		dst = e.appendTextValue(dst, f, row)
	}
	return append(dst, '\n')
}

// AppendTuple appends row i as an SQL tuple "(1,_binary'a','2024-01-01')".
func (e *Encoder) AppendTuple(dst []byte, row int) []byte {
	dst = append(dst, '(')
	for n, f := range e.load {
		if n > 0 {
			dst = append(dst, ',')
		}
		dst = e.appendLiteral(dst, f, row)
	}
	return append(dst, ')')
}

// value gives the bytes of field f at row, whether they need quoting (text,
// binary) and whether the value is NULL.
func (e *Encoder) value(dst []byte, f, row int) (out []byte, str, null bool) {
	t := &e.targets[f]
	a := e.arrs[f]
	if a.IsNull(row) {
		if t.Raw >= 0 {
			if r := e.varlen[t.Raw]; r.IsValid(row) {
				return append(dst, r.Value(row)...), false, false
			}
		}
		return dst, false, true
	}
	switch t.Kind {
	case KindInt8:
		return strconv.AppendInt(dst, int64(a.(*array.Int8).Value(row)), 10), false, false
	case KindInt16:
		return strconv.AppendInt(dst, int64(a.(*array.Int16).Value(row)), 10), false, false
	case KindInt32:
		return strconv.AppendInt(dst, int64(a.(*array.Int32).Value(row)), 10), false, false
	case KindInt64:
		return strconv.AppendInt(dst, a.(*array.Int64).Value(row), 10), false, false
	case KindUint8:
		return strconv.AppendUint(dst, uint64(a.(*array.Uint8).Value(row)), 10), false, false
	case KindUint16:
		return strconv.AppendUint(dst, uint64(a.(*array.Uint16).Value(row)), 10), false, false
	case KindYear:
		// Four digits: the string "0" would load as 2000, "0000" as 0000.
		return appendPad(dst, int64(a.(*array.Uint16).Value(row)), 4), false, false
	case KindUint32:
		return strconv.AppendUint(dst, uint64(a.(*array.Uint32).Value(row)), 10), false, false
	case KindUint64, KindBit:
		return strconv.AppendUint(dst, a.(*array.Uint64).Value(row), 10), false, false
	case KindFloat32:
		// The float32 widened to float64 and printed exactly: the server
		// parses that double and narrows it to the same float32, with no
		// double rounding through a shortest float32 decimal form.
		v := a.(*array.Float32).Value(row)
		if v == 0 && math.Signbit(float64(v)) {
			// The server stores "-0" as +0; a negative double below the
			// float range narrows to -0, which is how a FLOAT holds one.
			// (MariaDB reads such a -0 back as +0, so its exports never
			// carry one; this keeps an Arrow -0 from other writers exact.)
			return append(dst, "-1e-50"...), false, false
		}
		return appendFloat(dst, float64(v)), false, false
	case KindFloat64:
		return appendFloat(dst, a.(*array.Float64).Value(row)), false, false
	case KindDecimal128:
		dt := t.Field.Type.(*arrow.Decimal128Type)
		return appendDecimal(dst, a.(*array.Decimal128).Value(row).BigInt(), int(dt.Scale)), false, false
	case KindDecimal256:
		dt := t.Field.Type.(*arrow.Decimal256Type)
		return appendDecimal(dst, a.(*array.Decimal256).Value(row).BigInt(), int(dt.Scale)), false, false
	case KindDate:
		return AppendDate(dst, int64(a.(*array.Date32).Value(row))), false, false
	case KindDatetime, KindTimestamp:
		return AppendDatetime(dst, int64(a.(*array.Timestamp).Value(row))*t.USPer), false, false
	case KindTime:
		return AppendTime(dst, int64(a.(*array.Duration).Value(row))*t.USPer), false, false
	case KindString, KindBinary:
		return append(dst, e.varlen[f].Value(row)...), true, false
	}
	panic(fmt.Sprintf("mysqltype: no encoder for kind %d", t.Kind))
}

func appendFloat(dst []byte, v float64) []byte {
	if v == 0 && math.Signbit(v) {
		return append(dst, "-0"...)
	}
	return strconv.AppendFloat(dst, v, 'g', -1, 64)
}

func (e *Encoder) appendTextValue(dst []byte, f, row int) []byte {
	start := len(dst)
	dst, _, null := e.value(dst, f, row)
	if null {
		return append(dst, '\\', 'N')
	}
	// Escape in place only when needed: most values hold no special byte.
	special := false
	for _, c := range dst[start:] {
		if c == '\\' || c == '\t' || c == '\n' || c == '\r' || c == 0 {
			special = true
			break
		}
	}
	if !special {
		return dst
	}
	val := append([]byte(nil), dst[start:]...)
	dst = dst[:start]
	for _, c := range val {
		switch c {
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case 0:
			dst = append(dst, '\\', '0')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

func (e *Encoder) appendLiteral(dst []byte, f, row int) []byte {
	t := &e.targets[f]
	start := len(dst)
	dst, str, null := e.value(dst, f, row)
	if null {
		return append(dst[:start], "NULL"...)
	}
	numeric := !str && !t.Kind.IsDate() && t.Kind != KindTime && t.Kind != KindYear
	if numeric {
		return dst
	}
	if !str {
		// Dates, times, years: digits and punctuation only, safe to quote.
		val := append([]byte(nil), dst[start:]...)
		dst = append(dst[:start], '\'')
		dst = append(dst, val...)
		return append(dst, '\'')
	}
	// Text and binary as _binary literals: no character set conversion on
	// the way in (latin1 bytes stay bytes). The backslash escapes assume
	// NO_BACKSLASH_ESCAPES is off, as the importer's session ensures.
	val := append([]byte(nil), dst[start:]...)
	dst = dst[:start]
	if t.AsText {
		dst = append(dst, "CONVERT("...)
	}
	dst = append(dst, "_binary'"...)
	for _, c := range val {
		switch c {
		case 0:
			dst = append(dst, '\\', '0')
		case '\'':
			dst = append(dst, '\\', '\'')
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case 0x1a:
			dst = append(dst, '\\', 'Z')
		default:
			dst = append(dst, c)
		}
	}
	dst = append(dst, '\'')
	if t.AsText {
		dst = append(dst, " USING utf8mb4)"...)
	}
	return dst
}
