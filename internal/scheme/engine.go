package scheme

import (
	"fmt"
	"sort"
	"strings"
)

// Engine describes an engine to a registry: the name its sources record in a
// manifest (spec.Source.Engine), the URL schemes it serves and the --param
// keys it takes. Each engine package declares itself once, in params.go.
type Engine struct {
	Name    string
	Schemes []string
	Params  []Param
	// Records is what the bundle's rows of the engine are (rows,
	// documents): the unit progress counts in. A Redis key is several
	// rows (SPEC.md §8.3), so Redis counts rows too.
	Records string
}

// Param is one --param KEY=VALUE setting an engine takes.
type Param struct {
	Key    string
	Values []string // the only values accepted; empty = any (the engine checks)
	Help   string   // one line for --help, with the default
}

// Keys lists the engine's --param keys, sorted.
func (e Engine) Keys() []string {
	keys := make([]string, len(e.Params))
	for i, p := range e.Params {
		keys[i] = p.Key
	}
	sort.Strings(keys)
	return keys
}

// Param returns the declaration of key.
func (e Engine) Param(key string) (Param, bool) {
	for _, p := range e.Params {
		if p.Key == key {
			return p, true
		}
	}
	return Param{}, false
}

// CheckParams refuses a --param key the engine does not declare, or a value
// outside a declared list, with a UsageError that lists what is valid: an
// engine silently ignoring a mistyped key would do something else than asked.
func (e Engine) CheckParams(params map[string]string) error {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p, ok := e.Param(k)
		if !ok {
			if len(e.Params) == 0 {
				return Usagef("--param %s: the %s engine takes no --param keys", k, e.Name)
			}
			return Usagef("--param %s: unknown key for the %s engine; valid: %s", k, e.Name, strings.Join(e.Keys(), ", "))
		}
		if err := p.Check(params[k]); err != nil {
			return err
		}
	}
	return nil
}

// Check refuses a value outside p.Values (when declared).
func (p Param) Check(v string) error {
	if len(p.Values) == 0 {
		return nil
	}
	for _, ok := range p.Values {
		if v == ok {
			return nil
		}
	}
	return Usagef("--param %s=%q: want %s", p.Key, v, strings.Join(p.Values, " or "))
}

// Declare records an engine for its schemes. It panics on a scheme declared
// twice, as Register does.
func (r *Registry[T]) Declare(e Engine) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range e.Schemes {
		if _, dup := r.engines[s]; dup {
			panic(r.kind + ": Declare called twice for scheme " + s)
		}
		r.engines[s] = e
	}
}

// Engine returns the engine declared for a URL scheme. A scheme registered
// without a declaration is an engine named after it that takes no --param
// keys.
func (r *Registry[T]) Engine(scheme string) Engine {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if e, ok := r.engines[scheme]; ok {
		return e
	}
	return Engine{Name: scheme, Schemes: []string{scheme}}
}

// EngineOf is Engine for the scheme of rawURL, which must be registered.
func (r *Registry[T]) EngineOf(rawURL string) (Engine, error) {
	u, _, err := r.Lookup(rawURL)
	if err != nil {
		return Engine{}, err
	}
	return r.Engine(u.Scheme), nil
}

// Engines lists the engines of the registered schemes, by name.
func (r *Registry[T]) Engines() []Engine {
	seen := map[string]bool{}
	var out []Engine
	for _, s := range r.Schemes() {
		e := r.Engine(s)
		if !seen[e.Name] {
			seen[e.Name] = true
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// String is the engine as --help shows it: "mysql (mysql://, mariadb://)".
func (e Engine) String() string {
	s := make([]string, len(e.Schemes))
	for i, sc := range e.Schemes {
		s[i] = sc + "://"
	}
	return fmt.Sprintf("%s (%s)", e.Name, strings.Join(s, ", "))
}
