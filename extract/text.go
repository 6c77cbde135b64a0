package extract

import (
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// The exact text of values whose JSON, CSV and Parquet forms are text
// (SPEC.md Appendix A). One home for these spellings so that the three
// formats agree.

// decimalText is the decimal's exact digits with its scale: 12.340 for
// 12340 at scale 3, never an exponent.
func decimalText(digits string, scale int32) string {
	neg := strings.HasPrefix(digits, "-")
	digits = strings.TrimPrefix(digits, "-")
	if scale > 0 {
		if len(digits) <= int(scale) {
			digits = strings.Repeat("0", int(scale)-len(digits)+1) + digits
		}
		digits = digits[:len(digits)-int(scale)] + "." + digits[len(digits)-int(scale):]
	} else if scale < 0 && digits != "0" {
		digits += strings.Repeat("0", int(-scale))
	}
	if neg {
		return "-" + digits
	}
	return digits
}

// fracDigits is how many fractional second digits a unit holds.
func fracDigits(u arrow.TimeUnit) int {
	return [...]int{0, 3, 6, 9}[u]
}

// unitTime is the instant v units after the Unix epoch, exactly.
func unitTime(v int64, u arrow.TimeUnit) time.Time {
	per := int64(time.Second / u.Multiplier())
	sec, frac := v/per, v%per
	if frac < 0 {
		sec, frac = sec-1, frac+per
	}
	return time.Unix(sec, frac*(int64(time.Second)/per)).UTC()
}

// timestampText is ISO 8601 with as many fractional digits as the unit
// holds: 2024-02-29T23:59:59.999 for timestamp[ms], a trailing Z when the
// type has a time zone (bundle timestamps with a zone are UTC instants),
// none for a wall-clock timestamp without one (MySQL DATETIME).
func timestampText(v int64, t *arrow.TimestampType) string {
	s := isoTime(unitTime(v, t.Unit), fracDigits(t.Unit))
	if t.TimeZone != "" {
		s += "Z"
	}
	return s
}

func isoTime(tm time.Time, digits int) string {
	layout := "-01-02T15:04:05"
	if digits > 0 {
		layout += "." + strings.Repeat("0", digits)
	}
	// ISO 8601's expanded years outside 0000-9999, which Go's layouts
	// cannot spell: -0001, +10000.
	var year string
	switch y := tm.Year(); {
	case y < 0:
		year = fmt.Sprintf("-%04d", -y)
	case y > 9999:
		year = fmt.Sprintf("+%d", y)
	default:
		year = fmt.Sprintf("%04d", y)
	}
	return year + tm.Format(layout)
}

// dateText is YYYY-MM-DD of a day count since the epoch.
func dateText(days int64) string {
	d, _, _ := strings.Cut(isoTime(time.Unix(days*86400, 0).UTC(), 0), "T")
	return d
}

// durationText is a signed duration as [-]H:MM:SS with the unit's
// fractional digits, the way MySQL spells TIME: -838:59:59.000000.
func durationText(v int64, u arrow.TimeUnit) string {
	neg := v < 0
	var mag uint64
	if neg {
		mag = uint64(-(v + 1)) + 1
	} else {
		mag = uint64(v)
	}
	per := uint64(time.Second / u.Multiplier())
	sec, frac := mag/per, mag%per
	s := fmt.Sprintf("%d:%02d:%02d", sec/3600, sec/60%60, sec%60)
	if d := fracDigits(u); d > 0 {
		s += fmt.Sprintf(".%0*d", d, frac)
	}
	if neg {
		return "-" + s
	}
	return s
}

// timeOfDayText is HH:MM:SS with the unit's fractional digits.
func timeOfDayText(v int64, u arrow.TimeUnit) string {
	return durationText(v, u)
}

// floatText is the shortest text that parses back to the same float of
// the given size; NaN and infinities, which JSON has no number for, as
// NaN, Infinity and -Infinity.
func floatText(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return strconv.FormatFloat(f, 'g', -1, bits)
}

// bytesText is standard base64 with padding (RFC 4648 §4).
func bytesText(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// uuidText is the canonical 8-4-4-4-12 lower-case form.
func uuidText(b []byte) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// scalarText is the text of a non-nested, non-null value, and false for a
// nested type (written as JSON by the caller). Strings are returned as is.
func scalarText(arr arrow.Array, i int) (string, bool) {
	switch a := arr.(type) {
	case *array.Boolean:
		return strconv.FormatBool(a.Value(i)), true
	case *array.Int8:
		return strconv.FormatInt(int64(a.Value(i)), 10), true
	case *array.Int16:
		return strconv.FormatInt(int64(a.Value(i)), 10), true
	case *array.Int32:
		return strconv.FormatInt(int64(a.Value(i)), 10), true
	case *array.Int64:
		return strconv.FormatInt(a.Value(i), 10), true
	case *array.Uint8:
		return strconv.FormatUint(uint64(a.Value(i)), 10), true
	case *array.Uint16:
		return strconv.FormatUint(uint64(a.Value(i)), 10), true
	case *array.Uint32:
		return strconv.FormatUint(uint64(a.Value(i)), 10), true
	case *array.Uint64:
		return strconv.FormatUint(a.Value(i), 10), true
	case *array.Float32:
		return floatText(float64(a.Value(i)), 32), true
	case *array.Float64:
		return floatText(a.Value(i), 64), true
	case *array.Decimal128:
		return decimalText(a.Value(i).BigInt().String(), a.DataType().(*arrow.Decimal128Type).Scale), true
	case *array.Decimal256:
		return decimalText(a.Value(i).BigInt().String(), a.DataType().(*arrow.Decimal256Type).Scale), true
	case *array.String:
		return a.Value(i), true
	case *array.LargeString:
		return a.Value(i), true
	case *array.Binary:
		return bytesText(a.Value(i)), true
	case *array.LargeBinary:
		return bytesText(a.Value(i)), true
	case *array.FixedSizeBinary:
		return bytesText(a.Value(i)), true
	case *array.Date32:
		return dateText(int64(a.Value(i))), true
	case *array.Date64:
		return dateText(int64(a.Value(i)) / 86400000), true
	case *array.Timestamp:
		return timestampText(int64(a.Value(i)), a.DataType().(*arrow.TimestampType)), true
	case *array.Time32:
		return timeOfDayText(int64(a.Value(i)), a.DataType().(*arrow.Time32Type).Unit), true
	case *array.Time64:
		return timeOfDayText(int64(a.Value(i)), a.DataType().(*arrow.Time64Type).Unit), true
	case *array.Duration:
		return durationText(int64(a.Value(i)), a.DataType().(*arrow.DurationType).Unit), true
	case array.ExtensionArray:
		if a.ExtensionType().ExtensionName() == "arrow.uuid" {
			return uuidText(a.Storage().(*array.FixedSizeBinary).Value(i)), true
		}
		return scalarText(a.Storage(), i)
	}
	return "", false
}
