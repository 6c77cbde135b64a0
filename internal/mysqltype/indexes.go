package mysqltype

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Index is one secondary index of a table, read from its SHOW CREATE TABLE
// text (the form a bundle's dataset DDL holds).
type Index struct {
	Name    string
	Kind    string // "UNIQUE", "FULLTEXT", "SPATIAL" or "" (plain)
	Columns []IndexColumn
}

// IndexColumn is one key part of an index.
type IndexColumn struct {
	Name   string
	Prefix int // index prefix length in characters or bytes; 0 = the whole value
	Desc   bool
}

// indexDefLine matches an index line of SHOW CREATE TABLE output other than
// the PRIMARY KEY: "  UNIQUE KEY `name` (`a`,`b`(10) DESC) USING BTREE,".
var indexDefLine = regexp.MustCompile("(?m)^\\s*(UNIQUE |FULLTEXT |SPATIAL )?KEY `((?:[^`]|``)+)` \\((.*)$")

// primaryKeyLine matches the PRIMARY KEY line.
var primaryKeyLine = regexp.MustCompile("(?m)^\\s*PRIMARY KEY \\((.*)$")

// Indexes lists the DDL's indexes other than the PRIMARY KEY, in the DDL's
// order. A key part that is an expression (MySQL 8 functional indexes)
// is an error naming the index: no column carries it.
func Indexes(ddl string) ([]Index, error) {
	var out []Index
	for _, m := range indexDefLine.FindAllStringSubmatch(ddl, -1) {
		ix := Index{Name: strings.ReplaceAll(m[2], "``", "`"), Kind: strings.TrimSpace(m[1])}
		cols, err := keyParts(m[3])
		if err != nil {
			return nil, fmt.Errorf("index %s: %w", ix.Name, err)
		}
		ix.Columns = cols
		out = append(out, ix)
	}
	return out, nil
}

// PrimaryKeyParts returns the PRIMARY KEY's key parts, nil for a table
// without one.
func PrimaryKeyParts(ddl string) ([]IndexColumn, error) {
	m := primaryKeyLine.FindStringSubmatch(ddl)
	if m == nil {
		return nil, nil
	}
	return keyParts(m[1])
}

// keyParts parses "`a`,`b`(10) DESC) USING BTREE," up to the closing
// parenthesis of the key part list.
func keyParts(s string) ([]IndexColumn, error) {
	var out []IndexColumn
	for {
		s = strings.TrimLeft(s, " ")
		if !strings.HasPrefix(s, "`") {
			return nil, fmt.Errorf("key part %q is not a column", firstWord(s))
		}
		name, rest, ok := backquoted(s)
		if !ok {
			return nil, fmt.Errorf("unterminated column name in %q", s)
		}
		c := IndexColumn{Name: name}
		if strings.HasPrefix(rest, "(") {
			end := strings.IndexByte(rest, ')')
			if end < 0 {
				return nil, fmt.Errorf("unterminated prefix length in %q", rest)
			}
			n, err := strconv.Atoi(rest[1:end])
			if err != nil {
				return nil, fmt.Errorf("prefix length %q of %s", rest[1:end], name)
			}
			c.Prefix, rest = n, rest[end+1:]
		}
		if r, ok := strings.CutPrefix(rest, " DESC"); ok {
			c.Desc, rest = true, r
		} else if r, ok := strings.CutPrefix(rest, " ASC"); ok {
			rest = r
		}
		out = append(out, c)
		switch {
		case strings.HasPrefix(rest, ","):
			s = rest[1:]
		case strings.HasPrefix(rest, ")"):
			return out, nil
		default:
			return nil, fmt.Errorf("unexpected %q after key part %s", firstWord(rest), name)
		}
	}
}

// backquoted reads a `name` (with “ for a backquote) at the start of s.
func backquoted(s string) (name, rest string, ok bool) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		if s[i] != '`' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '`' {
			b.WriteByte('`')
			i++
			continue
		}
		return b.String(), s[i+1:], true
	}
	return "", "", false
}

func firstWord(s string) string {
	if i := strings.IndexAny(s, " ,)"); i > 0 {
		return s[:i]
	}
	return s
}
