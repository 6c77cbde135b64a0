package redistype

import (
	"context"
	"fmt"
	"sort"

	"github.com/imbundle/imbundle/internal/redistype/resp"
	"github.com/imbundle/imbundle/spec"
)

// Library is one Redis function library (Redis 7+): server-wide, not in
// any logical database, so it travels as a manifest object (SPEC.md §8.4),
// not as rows.
type Library struct {
	Name   string
	Engine string // "LUA"
	Code   string // the source FUNCTION LOAD takes, "#!lua name=..." header included
}

// ErrNoFunctions is returned by Libraries when the server has no FUNCTION
// command (Redis < 7, miniredis, Pika, most Kvrocks).
var ErrNoFunctions = fmt.Errorf("the server has no FUNCTION command")

// Libraries reads FUNCTION LIST WITHCODE, sorted by name.
func Libraries(ctx context.Context, c *resp.Conn) ([]Library, error) {
	v, err := c.Do(ctx, "FUNCTION", "LIST", "WITHCODE")
	if err != nil {
		return nil, err
	}
	if err := v.Err(); err != nil {
		if resp.IsServerError(err, "ERR unknown command") || resp.IsServerError(err, "ERR unknown subcommand") {
			return nil, ErrNoFunctions
		}
		return nil, fmt.Errorf("FUNCTION LIST WITHCODE: %w", err)
	}
	if v.Kind != resp.KindArray {
		return nil, fmt.Errorf("FUNCTION LIST WITHCODE: unexpected reply %s", v.String())
	}
	libs := make([]Library, 0, len(v.Elems))
	for _, e := range v.Elems {
		var l Library
		// Each library is a flat list of name/value pairs (a map in RESP3).
		for i := 0; i+1 < len(e.Elems); i += 2 {
			switch string(e.Elems[i].Str) {
			case "library_name":
				l.Name = string(e.Elems[i+1].Str)
			case "engine":
				l.Engine = string(e.Elems[i+1].Str)
			case "library_code":
				l.Code = string(e.Elems[i+1].Str)
			}
		}
		if l.Name == "" || l.Code == "" {
			return nil, fmt.Errorf("FUNCTION LIST WITHCODE: a library without name or code in the reply")
		}
		libs = append(libs, l)
	}
	sort.Slice(libs, func(i, j int) bool { return libs[i].Name < libs[j].Name })
	return libs, nil
}

// Object is the manifest object of l.
func (l Library) Object() spec.Object {
	return spec.Object{Kind: spec.ObjectLibrary, Name: l.Name, Definition: l.Code, Options: map[string]string{"engine": l.Engine}}
}

// BundleLibraries returns the libraries the manifest holds for the sources
// in srcs (Source.ID), and the objects of those sources this layout cannot
// restore (any other kind).
func BundleLibraries(m *spec.Manifest, srcs map[string]bool) (libs []Library, unknown []spec.Object) {
	for _, o := range m.Objects {
		if !srcs[o.Source] {
			continue
		}
		if o.Kind != spec.ObjectLibrary {
			unknown = append(unknown, o)
			continue
		}
		libs = append(libs, Library{Name: o.Name, Engine: o.Options["engine"], Code: o.Definition})
	}
	return libs, unknown
}

// DiffLibraries names each library that differs between a bundle and a
// server: missing, extra, or with other code.
func DiffLibraries(bundle, server []Library) []string {
	have := map[string]Library{}
	for _, l := range server {
		have[l.Name] = l
	}
	var out []string
	inBundle := map[string]bool{}
	for _, l := range bundle {
		inBundle[l.Name] = true
		s, ok := have[l.Name]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("function library %q is missing on the target", l.Name))
		case s.Code != l.Code:
			out = append(out, fmt.Sprintf("function library %q has other code on the target (%d bytes, bundle %d)", l.Name, len(s.Code), len(l.Code)))
		}
	}
	for _, l := range server {
		if !inBundle[l.Name] {
			out = append(out, fmt.Sprintf("function library %q is on the target but not in the bundle", l.Name))
		}
	}
	return out
}
