package scheme

import (
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// UsageError is a mistake in what the user asked for (an unknown URL
// parameter or --param key, a bad value): the CLI exits 2 for it and prints
// it as it is, so it should list what is valid.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Usagef returns a UsageError with a formatted message.
func Usagef(format string, args ...any) error {
	return &UsageError{fmt.Errorf(format, args...)}
}

// IsUsage reports whether err is, or wraps, a UsageError.
func IsUsage(err error) bool {
	var ue *UsageError
	return errors.As(err, &ue)
}

// CheckQuery refuses a URL query parameter that is not one of valid, naming
// it and listing the valid ones. Names compare exactly: a parameter spelled
// otherwise than documented would be silently ignored by a driver.
func CheckQuery(u *url.URL, valid ...string) error {
	ok := map[string]bool{}
	for _, v := range valid {
		ok[v] = true
	}
	var bad []string
	for k := range u.Query() {
		if !ok[k] {
			bad = append(bad, k)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	sort.Strings(bad)
	list := append([]string(nil), valid...)
	sort.Strings(list)
	if len(list) == 0 {
		return Usagef("%s URL: unknown parameter(s) %s; this engine takes no URL parameters", u.Scheme, strings.Join(bad, ", "))
	}
	return Usagef("%s URL: unknown parameter(s) %s; valid: %s", u.Scheme, strings.Join(bad, ", "), strings.Join(list, ", "))
}
