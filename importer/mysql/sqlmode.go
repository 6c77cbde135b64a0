package mysql

import (
	"strings"
)

// sessionSQLMode derives the import session's sql_mode from the source's.
// The bundle holds only values the source stored, so modes that would refuse
// such values are dropped (NO_ZERO_DATE, NO_ZERO_IN_DATE) and
// ALLOW_INVALID_DATES is added: a zero, partial or out-of-calendar date in
// the bundle was accepted once and must be accepted again. Modes that change
// how statements parse (ANSI_QUOTES, NO_BACKSLASH_ESCAPES, the compatibility
// modes) are dropped because the DDL and the statements imbundle sends are
// written in the default syntax. STRICT_ALL_TABLES is always on: a value the
// target cannot hold exactly must fail and be rejected, never be silently
// truncated. NO_AUTO_VALUE_ON_ZERO keeps an AUTO_INCREMENT column's 0 a 0.
func sessionSQLMode(source string) string {
	drop := map[string]bool{
		"NO_ZERO_DATE": true, "NO_ZERO_IN_DATE": true,
		"ANSI_QUOTES": true, "NO_BACKSLASH_ESCAPES": true, "ANSI": true,
		"ORACLE": true, "MSSQL": true, "DB2": true, "POSTGRESQL": true, "MAXDB": true,
		"MYSQL323": true, "MYSQL40": true, "PIPES_AS_CONCAT": true,
		"PAD_CHAR_TO_FULL_LENGTH": true,
	}
	var out []string
	seen := map[string]bool{}
	add := func(m string) {
		if m != "" && !seen[m] && !drop[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	for _, m := range strings.Split(strings.ToUpper(source), ",") {
		add(strings.TrimSpace(m))
	}
	add("STRICT_ALL_TABLES")
	add("NO_AUTO_VALUE_ON_ZERO")
	add("ALLOW_INVALID_DATES")
	return strings.Join(out, ",")
}
