package mysqltype

import (
	"regexp"
	"strings"
)

// token is a piece of SQL text: a quoted identifier, a bare word, a string
// literal or comment (left alone), or one other byte.
type token struct {
	start, end int
	kind       byte // '`' quoted identifier, 'w' word, 's' string or comment, 'o' other
}

// scan splits SQL text into tokens, so that rewrites never touch string
// literals or comments. Executable comments (/*! ... */) are code, and are
// scanned as such.
func scan(s string) []token {
	var out []token
	i := 0
	for i < len(s) {
		c := s[i]
		start := i
		switch {
		case c == '`':
			i++
			for i < len(s) {
				if s[i] == '`' {
					if i+1 < len(s) && s[i+1] == '`' {
						i += 2
						continue
					}
					i++
					break
				}
				i++
			}
			out = append(out, token{start, i, '`'})
		case c == '\'' || c == '"':
			i++
			for i < len(s) {
				if s[i] == '\\' {
					i += 2
					continue
				}
				if s[i] == c {
					if i+1 < len(s) && s[i+1] == c {
						i += 2
						continue
					}
					i++
					break
				}
				i++
			}
			if i > len(s) {
				i = len(s)
			}
			out = append(out, token{start, i, 's'})
		case c == '#' || c == '-' && strings.HasPrefix(s[i:], "-- "):
			for i < len(s) && s[i] != '\n' {
				i++
			}
			out = append(out, token{start, i, 's'})
		case c == '/' && strings.HasPrefix(s[i:], "/*") && !strings.HasPrefix(s[i:], "/*!"):
			if j := strings.Index(s[i+2:], "*/"); j >= 0 {
				i += 2 + j + 2
			} else {
				i = len(s)
			}
			out = append(out, token{start, i, 's'})
		case isWordByte(c):
			for i < len(s) && isWordByte(s[i]) {
				i++
			}
			out = append(out, token{start, i, 'w'})
		default:
			i++
			out = append(out, token{start, i, 'o'})
		}
	}
	return out
}

func isWordByte(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func unquote(s string) string {
	return strings.ReplaceAll(s[1:len(s)-1], "``", "`")
}

// QuotedIdents returns the backquoted identifiers of SQL text, unquoted.
func QuotedIdents(s string) []string {
	var out []string
	for _, t := range scan(s) {
		if t.kind == '`' && t.end-t.start >= 2 {
			out = append(out, unquote(s[t.start:t.end]))
		}
	}
	return out
}

// RenameSchemas rewrites database qualifiers in SQL text by renames (old
// name -> new), in one pass: an identifier, quoted or bare, that renames
// holds and that is directly followed by "." (and not itself after a "."),
// outside string literals and comments. A table or alias named like a
// renamed database and used as a column qualifier (`db`.`col`) is rewritten
// too: SQL text alone cannot tell them apart.
func RenameSchemas(s string, renames map[string]string) string {
	if len(renames) == 0 {
		return s
	}
	toks := scan(s)
	var b strings.Builder
	last := 0
	for i, t := range toks {
		var name string
		switch t.kind {
		case '`':
			name = unquote(s[t.start:t.end])
		case 'w':
			name = s[t.start:t.end]
		default:
			continue
		}
		to, ok := renames[name]
		if !ok || to == name || i+1 >= len(toks) || s[toks[i+1].start:toks[i+1].end] != "." {
			continue
		}
		if i > 0 && s[toks[i-1].start:toks[i-1].end] == "." {
			continue
		}
		b.WriteString(s[last:t.start])
		if to == "" {
			last = toks[i+1].end // the qualifier goes, and its "."
			continue
		}
		b.WriteString(QuoteIdent(to))
		last = t.end
	}
	b.WriteString(s[last:])
	return b.String()
}

// Unqualified removes the qualifier db. from SQL text (RenameSchemas' rule),
// for comparing definitions: the server prints a view on its own database
// unqualified when it can open it as its definer, qualified when it cannot
// (the definer does not exist), so equal views may differ in that alone.
func Unqualified(s, db string) string {
	return RenameSchemas(s, map[string]string{db: ""})
}

// definerClause matches the DEFINER clause of a CREATE statement's head, as
// SHOW CREATE prints it or as written by hand.
var definerClause = regexp.MustCompile("(?i)^(\\s*CREATE\\s+(?:OR\\s+REPLACE\\s+)?(?:ALGORITHM\\s*=\\s*\\w+\\s+)?)DEFINER\\s*=\\s*(?:CURRENT_USER(?:\\s*\\(\\s*\\))?|(?:`(?:[^`]|``)*`|'(?:[^'\\\\]|\\\\.|'')*'|[^\\s@]+)(?:\\s*@\\s*(?:`(?:[^`]|``)*`|'(?:[^'\\\\]|\\\\.|'')*'|[^\\s]+))?)\\s+")

// StripDefiner removes the DEFINER clause of a CREATE statement, so that the
// object gets the creating user (MySQL Shell's strip_definers).
func StripDefiner(s string) string {
	return definerClause.ReplaceAllString(s, "$1")
}

// forEachRow and triggerOrder find the FOLLOWS/PRECEDES clause of a CREATE
// TRIGGER: right after the head's FOR EACH ROW (no statement of a body
// starts with either word).
var (
	forEachRow   = regexp.MustCompile(`(?i)\bFOR\s+EACH\s+ROW\b`)
	triggerOrder = regexp.MustCompile("(?i)^\\s+(?:FOLLOWS|PRECEDES)\\s+(?:`(?:[^`]|``)+`|[\\w$]+)")
)

// StripTriggerOrder removes a trigger's FOLLOWS/PRECEDES clause. MySQL keeps
// it in the statement it shows (MariaDB does not); a target that creates a
// table's triggers one after another in action order gets the same order
// without it, and with it would fail on a trigger not created yet.
func StripTriggerOrder(s string) string {
	loc := forEachRow.FindStringIndex(s)
	if loc == nil {
		return s
	}
	rest := s[loc[1]:]
	if m := triggerOrder.FindStringIndex(rest); m != nil {
		return s[:loc[1]] + rest[m[1]:]
	}
	return s
}

// SplitAccount splits a DEFINER as information_schema prints it
// ("user@host") at its last "@". A role has no host.
func SplitAccount(definer string) (user, host string, ok bool) {
	i := strings.LastIndexByte(definer, '@')
	if i < 0 {
		return definer, "", false
	}
	return definer[:i], definer[i+1:], true
}
