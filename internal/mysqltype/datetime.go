package mysqltype

import (
	"fmt"
	"strconv"
)

// The server's temporal text forms are parsed and written here by hand,
// with proleptic Gregorian arithmetic: time.Time would do, but year 0000 and
// the microsecond formats are easier to get exactly right this way.

const usPerDay = 86400 * 1000000

// daysFromCivil is the number of days from 1970-01-01 to y-m-d (Howard
// Hinnant's algorithm; valid for any year, 0 included).
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// civilFromDays inverts daysFromCivil.
func civilFromDays(z int64) (y, m, d int64) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return
}

func daysIn(y, m int64) int64 {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func digits(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// parseDate reads "YYYY-MM-DD". real is false for zero, partial or invalid
// calendar dates, which still parse (ok) but have no day number.
func parseDate(b []byte) (days int64, real, ok bool) {
	if len(b) != 10 || b[4] != '-' || b[7] != '-' {
		return 0, false, false
	}
	y, ok1 := digits(b[0:4])
	m, ok2 := digits(b[5:7])
	d, ok3 := digits(b[8:10])
	if !ok1 || !ok2 || !ok3 {
		return 0, false, false
	}
	if m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, false, true
	}
	return daysFromCivil(y, m, d), true, true
}

// parseFraction reads ".ffffff" (1 to 6 digits, or none) as microseconds.
func parseFraction(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, true
	}
	if b[0] != '.' || len(b) > 7 {
		return 0, false
	}
	f, ok := digits(b[1:])
	if !ok {
		return 0, false
	}
	for i := len(b) - 1; i < 6; i++ {
		f *= 10
	}
	return f, true
}

// parseDatetime reads "YYYY-MM-DD HH:MM:SS[.ffffff]" as microseconds since
// the epoch, in no particular zone.
func parseDatetime(b []byte) (us int64, real, ok bool) {
	if len(b) < 19 || b[10] != ' ' || b[13] != ':' || b[16] != ':' {
		return 0, false, false
	}
	days, real, ok := parseDate(b[:10])
	if !ok {
		return 0, false, false
	}
	h, ok1 := digits(b[11:13])
	mi, ok2 := digits(b[14:16])
	s, ok3 := digits(b[17:19])
	f, ok4 := parseFraction(b[19:])
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return 0, false, false
	}
	if !real || h > 23 || mi > 59 || s > 59 {
		return 0, false, true
	}
	return days*usPerDay + ((h*60+mi)*60+s)*1000000 + f, true, true
}

// ParseTime reads MySQL's TIME text "[-]HHH:MM:SS[.ffffff]", as
// AppendTime writes it, as signed microseconds.
func ParseTime(b []byte) (int64, bool) { return parseTime(b) }

// parseTime reads "[-]HHH:MM:SS[.ffffff]" as signed microseconds.
func parseTime(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	c1 := -1
	for i, c := range b {
		if c == ':' {
			c1 = i
			break
		}
	}
	if c1 < 1 || len(b) < c1+6 || b[c1+3] != ':' {
		return 0, false
	}
	h, ok1 := digits(b[:c1])
	mi, ok2 := digits(b[c1+1 : c1+3])
	s, ok3 := digits(b[c1+4 : c1+6])
	f, ok4 := parseFraction(b[c1+6:])
	if !ok1 || !ok2 || !ok3 || !ok4 || mi > 59 || s > 59 {
		return 0, false
	}
	v := ((h*60+mi)*60+s)*1000000 + f
	if neg {
		v = -v
	}
	return v, true
}

func appendPad(b []byte, v int64, width int) []byte {
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], v, 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// AppendDate writes a day number as "YYYY-MM-DD".
func AppendDate(b []byte, days int64) []byte {
	y, m, d := civilFromDays(days)
	b = appendPad(b, y, 4)
	b = append(b, '-')
	b = appendPad(b, m, 2)
	b = append(b, '-')
	return appendPad(b, d, 2)
}

// AppendDatetime writes microseconds since the epoch as
// "YYYY-MM-DD HH:MM:SS.ffffff".
func AppendDatetime(b []byte, us int64) []byte {
	days := us / usPerDay
	rem := us % usPerDay
	if rem < 0 {
		days--
		rem += usPerDay
	}
	b = AppendDate(b, days)
	b = append(b, ' ')
	return appendClock(b, rem)
}

func appendClock(b []byte, us int64) []byte {
	s := us / 1000000
	b = appendPad(b, s/3600, 2)
	b = append(b, ':')
	b = appendPad(b, s/60%60, 2)
	b = append(b, ':')
	b = appendPad(b, s%60, 2)
	b = append(b, '.')
	return appendPad(b, us%1000000, 6)
}

// AppendTime writes signed microseconds as "[-]HH:MM:SS.ffffff" (hours may
// exceed 24 and take three digits, as TIME allows).
func AppendTime(b []byte, us int64) []byte {
	if us < 0 {
		b = append(b, '-')
		us = -us
	}
	return appendClock(b, us)
}

func errValue(kind string, v any) error {
	if b, ok := v.([]byte); ok {
		v = string(b) // the text, not its byte values
	}
	return fmt.Errorf("cannot read %s value %q", kind, fmt.Sprint(v))
}
