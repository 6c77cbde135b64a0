package mysql

import (
	"errors"
	"fmt"
	"testing"

	"github.com/go-sql-driver/mysql"
)

func TestSessionSQLMode(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", "STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,ALLOW_INVALID_DATES"},
		{"STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION",
			"STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION,STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,ALLOW_INVALID_DATES"},
		// MySQL 8's default: the zero-date modes go, strictness stays.
		{"ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION",
			"ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION,STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,ALLOW_INVALID_DATES"},
		{"ansi_quotes,NO_BACKSLASH_ESCAPES,PIPES_AS_CONCAT,ANSI,STRICT_ALL_TABLES",
			"STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,ALLOW_INVALID_DATES"},
	} {
		if got := sessionSQLMode(c.in); got != c.want {
			t.Errorf("sessionSQLMode(%q)\n got %s\nwant %s", c.in, got, c.want)
		}
	}
}

func TestErrorClasses(t *testing.T) {
	me := func(n uint16) error { return fmt.Errorf("wrapped: %w", &mysql.MySQLError{Number: n, Message: "x"}) }
	for _, c := range []struct {
		err           error
		data, refused bool
	}{
		{me(1062), true, false},  // duplicate entry
		{me(1406), true, false},  // data too long
		{me(1292), true, false},  // incorrect value
		{me(4025), true, false},  // CHECK constraint failed
		{me(1148), false, true},  // LOAD DATA LOCAL not allowed
		{me(3948), false, true},  // local infile disabled (MySQL 8)
		{me(1213), false, false}, // deadlock
		{me(1205), false, false}, // lock wait timeout
		{me(1142), false, false}, // command denied
		{mysql.ErrInvalidConn, false, false},
		{errors.New("io: read/write on closed pipe"), false, false},
	} {
		if got := dataError(c.err); got != c.data {
			t.Errorf("dataError(%v) = %v", c.err, got)
		}
		if got := localInfileRefused(c.err); got != c.refused {
			t.Errorf("localInfileRefused(%v) = %v", c.err, got)
		}
	}
}
