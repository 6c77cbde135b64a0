// Package passfile reads a pass file in the pgpass form, so that database
// passwords need not be on the command line, where ps shows them:
//
//	scheme:host:port:database:user:password
//
// one entry a line; `*` in any of the first five fields matches anything;
// `\:` and `\\` escape a colon and a backslash; blank lines and lines
// starting with # are ignored; the first matching line wins (PostgreSQL's
// .pgpass rules, with the URL scheme in front as in usql's pass file).
package passfile

import (
	"bufio"
	"bytes"
	"fmt"
	"net/url"
	"os"
	"strings"
)

// Entry is one line of a pass file.
type Entry struct {
	Scheme, Host, Port, Database, User, Password string
	Line                                         int
}

// File is a loaded pass file.
type File struct {
	Path    string
	Entries []Entry
}

// Load reads a pass file, refusing one that is not a regular file or that
// group or others may read or write (as libpq refuses such a .pgpass).
// Errors name FILE:LINE:COLUMN and never hold a password.
func Load(path string) (*File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("pass file %s is not a regular file", path)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("pass file %s may be read by group or others (mode %04o): chmod 600 %s", path, st.Mode().Perm(), path)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f := &File{Path: path}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields, col, err := split(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d:%d: %v", path, n, col, err)
		}
		f.Entries = append(f.Entries, Entry{fields[0], fields[1], fields[2], fields[3], fields[4], fields[5], n})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return f, nil
}

// split cuts a line at its unescaped colons into six fields, unescaping
// them. On an error it gives the 1-based column at fault.
func split(line string) ([]string, int, error) {
	var fields []string
	var cur strings.Builder
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case c == '\\' && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
		case c == ':' && len(fields) < 5:
			fields = append(fields, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	fields = append(fields, cur.String())
	if len(fields) != 6 {
		return nil, len(line) + 1, fmt.Errorf("want 6 fields scheme:host:port:database:user:password, found %d", len(fields))
	}
	for i, name := range []string{"scheme", "host", "port", "database", "user"} {
		if fields[i] == "" {
			return nil, 1, fmt.Errorf("the %s field is empty (use * to match any)", name)
		}
	}
	return fields, 0, nil
}

// Lookup is the password of the first entry matching all five fields.
// A URL without a port matches only `*`; its database is the first element
// of its path ("" for none: only `*` matches it).
func (f *File) Lookup(scheme, host, port, database, user string) (string, bool) {
	match := func(pattern, v string) bool { return pattern == "*" || pattern == v }
	for _, e := range f.Entries {
		if match(e.Scheme, scheme) && match(e.Host, host) && match(e.Port, port) && match(e.Database, database) && match(e.User, user) {
			return e.Password, true
		}
	}
	return "", false
}

// Fill returns rawURL with its user's password from the file when the URL
// holds none (a URL without a user looks up the user ""), and whether it
// found one. A URL that does not parse is returned unchanged, for its own
// engine to refuse.
func (f *File) Fill(rawURL string) (string, bool) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL, false
	}
	if _, has := u.User.Password(); has {
		return rawURL, false
	}
	user := u.User.Username()
	db, _, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	pass, ok := f.Lookup(u.Scheme, u.Hostname(), u.Port(), db, user)
	if !ok {
		return rawURL, false
	}
	u.User = url.UserPassword(user, pass)
	return u.String(), true
}
