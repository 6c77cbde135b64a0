// Package scheme keeps engines by URL scheme, as database/sql keeps drivers
// by name. The exporter and the importer each hold one Registry: of source
// openers and of target openers.
package scheme

import (
	"net/url"
	"sort"
	"sync"
)

// Registry maps URL schemes to openers of type T.
type Registry[T any] struct {
	kind    string              // "source" or "target", for messages
	redact  func(string) string // hides a URL's password in errors
	mu      sync.RWMutex
	m       map[string]T
	engines map[string]Engine // by scheme: name and --param keys
}

// New returns an empty registry whose errors call the URLs kind URLs and
// print them through redact.
func New[T any](kind string, redact func(string) string) *Registry[T] {
	return &Registry[T]{kind: kind, redact: redact, m: map[string]T{}, engines: map[string]Engine{}}
}

// Register makes v the opener of the schemes given. It panics on a
// duplicate, as database/sql.Register does.
func (r *Registry[T]) Register(v T, schemes ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range schemes {
		if _, dup := r.m[s]; dup {
			panic(r.kind + ": Register called twice for scheme " + s)
		}
		r.m[s] = v
	}
}

// Schemes lists the registered schemes, sorted.
func (r *Registry[T]) Schemes() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	s := make([]string, 0, len(r.m))
	for k := range r.m {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}

// Lookup parses rawURL and returns it with the opener of its scheme. Errors
// never repeat the URL's password; both (an unparsable URL, an unknown
// scheme) are UsageErrors.
func (r *Registry[T]) Lookup(rawURL string) (*url.URL, T, error) {
	var zero T
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, zero, Usagef("%s URL %s: cannot parse (check quoting of special characters in the password)", r.kind, r.redact(rawURL))
	}
	r.mu.RLock()
	v, ok := r.m[u.Scheme]
	r.mu.RUnlock()
	if !ok {
		return nil, zero, Usagef("%s URL %s: unknown scheme %q (known: %v)", r.kind, r.redact(rawURL), u.Scheme, r.Schemes())
	}
	return u, v, nil
}
