// Package enginetest is the one conformance suite every engine passes, in
// the spirit of restic's backend test suite: an engine's test supplies a
// Harness (how to make, fill, read and disturb a database of that engine)
// and Run drives the imbundle binary against it through the same commands a
// user types, asserting the project's rules for every engine alike: the
// three import modes, resume after a failure and after SIGKILL, rejects, a
// corrupt bundle writing nothing, verify --against, a clean target, the
// same bundle twice, timeouts on a silent server, and a delta bundle
// (export --since) applied to a target holding its base. Engines differ only in
// what the Harness says about their databases.
//
// Conversions between engines need two engines at once, so their part of
// the suite lives where every engine is linked in: cmd/imbundle's
// TestEveryEnginePairConverts drives the six ordered pairs through resume
// (ImportFailing), a repeated import, --mode replace, verify --against and
// a refused --mode fail, with the default mappings.
package enginetest

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

// Harness is what the suite needs to know about one engine. Every function
// works on a real server; URLs are the ones the CLI takes.
type Harness struct {
	Name string // engine name in messages: "mysql", "redis", "mongodb"

	// NewTarget returns the URL of a database of this engine that does not
	// exist yet, or is empty; it is removed when t ends. The suite takes
	// its source from NewTarget too.
	NewTarget func(t *testing.T) string
	// Seed fills the (new) database at url with the suite's source data,
	// enough records for several parts of BatchRows rows each; cli runs the
	// fixture generators (imbundle fixtures ENGINE).
	Seed func(t *testing.T, cli *CLI, url string)
	// BatchRows bounds the rows of one record batch when the suite exports
	// its bundle (the CLI's smallest --part-size, 1 MiB, would hold the
	// whole test source in one part).
	BatchRows int
	// Map gives the namespace renames that make a bundle of source load
	// into target (the CLI's --map / --db-map), for import and verify.
	Map func(source, target string) map[string]string

	// Dump reads every record of the database at url, imbundle's own
	// bookkeeping excluded, in a canonical form: two databases hold the same
	// data exactly when their dumps are equal. A database that does not
	// exist dumps empty.
	Dump func(t *testing.T, url string) State
	// ExpiryTolerance is how far two expiry times of one record may differ
	// (an exporter reading relative TTLs); 0 for engines without expiry.
	ExpiryTolerance time.Duration
	// Exists reports whether the database at url exists at all (MySQL
	// schema, MongoDB database) or, where databases always exist (Redis),
	// holds anything.
	Exists func(t *testing.T, url string) bool
	// Residue lists what imbundle left in or about the database at url:
	// its tables, collections or keys in the user's database, and its
	// resume state elsewhere that names this database. After a finished
	// import it must be empty; the last-applied record (SPEC.md §14.3),
	// which outlives every import, is no residue.
	Residue func(t *testing.T, url string) []string

	// AddForeign writes into target (empty or absent) one record that the
	// bundle of source does not hold, inside an object the bundle loads
	// into where the engine has objects (a table, a collection).
	AddForeign func(t *testing.T, source, target string)
	// Collide writes into target (empty or absent) one record whose key the
	// bundle of source holds, with another value, and returns the object
	// name a refusal must mention.
	Collide func(t *testing.T, source, target string) string
	// Change alters one record of target, which holds the bundle's data,
	// and returns the text verify --against must print for it (its key).
	Change func(t *testing.T, target string) string
	// Refuse prepares target (empty or absent) so that an import of the
	// bundle of source in the returned mode refuses exactly the records
	// whose Dump keys it returns, one reject line each.
	Refuse func(t *testing.T, source, target string) (mode string, keys []string)

	// SilentURL is a URL of this engine for a server at addr (host:port)
	// that accepts connections and never answers, with the engine's
	// timeout parameter set to about a second.
	SilentURL func(addr string) string

	// Known lists subtests (names relative to Run's test, as in
	// "Import/SameBundleTwice") that fail today for a reason being fixed
	// elsewhere: they are skipped with the reason. A name here that is no
	// subtest fails the suite, so the list stays exact.
	Known map[string]string
}

// State is a database's canonical content: record key -> record.
type State map[string]Record

// Record is one record's canonical value and, for engines with expiry, its
// absolute expiry time (zero: none).
type Record struct {
	Value    string
	ExpireAt time.Time
}

// diff lists up to max differences between want and got, naming keys.
func diff(want, got State, tol time.Duration, max int) []string {
	var out []string
	keys := make([]string, 0, len(want)+len(got))
	for k := range want {
		keys = append(keys, k)
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	n := 0
	for _, k := range keys {
		w, inW := want[k]
		g, inG := got[k]
		var d string
		switch {
		case !inG:
			d = fmt.Sprintf("missing %s", k)
		case !inW:
			d = fmt.Sprintf("unexpected %s = %s", k, short(g.Value))
		case w.Value != g.Value:
			d = fmt.Sprintf("%s: want %s, got %s", k, short(w.Value), short(g.Value))
		case w.ExpireAt.IsZero() != g.ExpireAt.IsZero() || absDur(w.ExpireAt.Sub(g.ExpireAt)) > tol:
			d = fmt.Sprintf("%s: expiry want %s, got %s", k, expiry(w.ExpireAt), expiry(g.ExpireAt))
		default:
			continue
		}
		n++
		if len(out) < max {
			out = append(out, d)
		}
	}
	if n > len(out) {
		out = append(out, fmt.Sprintf("... %d differences in all", n))
	}
	return out
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func expiry(t time.Time) string {
	if t.IsZero() {
		return "none"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func short(s string) string {
	if len(s) > 120 {
		return fmt.Sprintf("%q...(%d bytes)", s[:120], len(s))
	}
	return fmt.Sprintf("%q", s)
}

// requireSame fails t if got differs from want.
func requireSame(t *testing.T, what string, want, got State, tol time.Duration) {
	t.Helper()
	if d := diff(want, got, tol, 10); len(d) > 0 {
		t.Fatalf("%s: %d records expected, %d found; differences:\n  %s", what, len(want), len(got), strings.Join(d, "\n  "))
	}
}
