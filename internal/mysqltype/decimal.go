package mysqltype

import (
	"fmt"
	"math/big"
	"math/bits"

	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/decimal256"
)

// parseDecimal reads the server's DECIMAL text ("-123.4500") as an unscaled
// 256-bit two's-complement integer at the given scale, exactly: no floating
// point is involved, so DECIMAL(65,30) keeps all 65 digits.
func parseDecimal(b []byte, scale int) (limbs [4]uint64, err error) {
	s := b
	neg := false
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	frac := -1 // digits seen after the point; -1 = no point yet
	n := 0
	mul := func(d uint64) {
		// limbs = limbs*10 + d, little-endian limbs.
		carry := d
		for i := 0; i < 4; i++ {
			hi, lo := bits.Mul64(limbs[i], 10)
			lo, c := bits.Add64(lo, carry, 0)
			limbs[i] = lo
			carry = hi + c
		}
	}
	for _, c := range s {
		switch {
		case c == '.' && frac < 0:
			frac = 0
		case c >= '0' && c <= '9':
			if frac >= 0 {
				if frac == scale {
					return limbs, fmt.Errorf("decimal %q has more than %d fractional digits", b, scale)
				}
				frac++
			}
			mul(uint64(c - '0'))
			n++
		default:
			return limbs, fmt.Errorf("decimal %q is not a number", b)
		}
	}
	if n == 0 || n > 77 {
		return limbs, fmt.Errorf("decimal %q is not a number", b)
	}
	if frac < 0 {
		frac = 0
	}
	for ; frac < scale; frac++ {
		mul(0)
	}
	if neg {
		var borrow uint64
		for i := 0; i < 4; i++ {
			limbs[i], borrow = bits.Sub64(0, limbs[i], borrow)
		}
	}
	return limbs, nil
}

func decimal128Of(l [4]uint64) decimal128.Num { return decimal128.New(int64(l[1]), l[0]) }
func decimal256Of(l [4]uint64) decimal256.Num { return decimal256.New(l[3], l[2], l[1], l[0]) }

// appendDecimal writes an unscaled integer at scale as the server's DECIMAL
// text.
func appendDecimal(b []byte, v *big.Int, scale int) []byte {
	if v.Sign() < 0 {
		b = append(b, '-')
		v = new(big.Int).Neg(v)
	}
	digits := v.Text(10)
	if scale == 0 {
		return append(b, digits...)
	}
	if len(digits) <= scale {
		b = append(b, '0', '.')
		for i := len(digits); i < scale; i++ {
			b = append(b, '0')
		}
		return append(b, digits...)
	}
	b = append(b, digits[:len(digits)-scale]...)
	b = append(b, '.')
	return append(b, digits[len(digits)-scale:]...)
}
