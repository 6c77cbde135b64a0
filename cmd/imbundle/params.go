package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/imbundle/imbundle/convert"
	"github.com/imbundle/imbundle/internal/scheme"
)

// parseMap turns "old=new" or "old:new" pairs into a rename map.
func parseMap(pairs []string) (map[string]string, error) {
	m := map[string]string{}
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			k, v, ok = strings.Cut(p, ":")
		}
		if !ok || k == "" || v == "" {
			return nil, withCode(exitUsage, fmt.Errorf("mapping %q: want OLD=NEW (or OLD:NEW)", p))
		}
		m[k] = v
	}
	return m, nil
}

// splitList splits comma-separated flag values, dropping empty elements.
func splitList(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// engineParams hands each URL's engine the settings it declares: one
// --param list serves several --source URLs of different engines. from names
// the flag that set a key (--db), for keys not given with --param. A key no
// engine of the URLs takes is a usage error that lists what each takes.
func engineParams(engines []scheme.Engine, settings, from map[string]string) ([]map[string]string, error) {
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]map[string]string, len(engines))
	for i := range out {
		out[i] = map[string]string{}
	}
	for _, k := range keys {
		taken := false
		for i, e := range engines {
			if _, ok := e.Param(k); ok {
				out[i][k] = settings[k]
				taken = true
			}
		}
		if taken {
			continue
		}
		var names, valid []string
		seen := map[string]bool{}
		for _, e := range engines {
			if !seen[e.Name] {
				seen[e.Name] = true
				names = append(names, e.Name)
				valid = append(valid, e.Name+": "+strings.Join(e.Keys(), ", "))
			}
		}
		if f := from[k]; f != "" {
			return nil, scheme.Usagef("%s does not apply to %s (see --help for the engines it serves)", f, strings.Join(names, " or "))
		}
		return nil, scheme.Usagef("--param %s: unknown key for %s; valid: %s", k, strings.Join(names, " or "), strings.Join(valid, "; "))
	}
	return out, nil
}

// paramsHelp lists each engine's --param keys, for a command's --help.
func paramsHelp(engines []scheme.Engine) string {
	var b strings.Builder
	b.WriteString("\n\nEngine settings (--param KEY=VALUE):")
	for _, e := range engines {
		fmt.Fprintf(&b, "\n  %s", e)
		if len(e.Params) == 0 {
			b.WriteString(": none")
		}
		for _, p := range e.Params {
			fmt.Fprintf(&b, "\n    %-20s %s", p.Key, p.Help)
		}
	}
	return b.String()
}

// checkPositive refuses a count flag (--jobs, --part-size) below 1.
func checkPositive(flag string, v int) error {
	if v < 1 {
		return scheme.Usagef("%s %d: want 1 or more", flag, v)
	}
	return nil
}

// splitMaps separates the --map values that name a mapping file (ending in
// .yaml or .yml; at most one) from the OLD=NEW namespace renames, and
// reads the file, or the shipped profile named by --profile (one or the
// other): its errors name the line and column (exit 5; an unknown --profile, exit 2).
func splitMaps(vals []string, profile string) (renames []string, m *convert.Mapping, err error) {
	defer func() {
		if err != nil || profile == "" {
			return
		}
		if m != nil {
			renames, m, err = nil, nil, withCode(exitUsage, fmt.Errorf("--profile %s and --map %s: one mapping at a time (edit a copy of the profile: imbundle profiles show %s)", profile, m.File(), profile))
			return
		}
		if m, err = convert.LoadProfile(profile); err != nil {
			renames, err = nil, withCode(exitUsage, err)
		}
	}()
	for _, v := range vals {
		if !strings.HasSuffix(v, ".yaml") && !strings.HasSuffix(v, ".yml") {
			renames = append(renames, v)
			continue
		}
		if m != nil {
			return nil, nil, withCode(exitUsage, fmt.Errorf("--map %s: one mapping file at a time (%s is the other)", v, m.File()))
		}
		if m, err = convert.LoadMapping(v); err != nil {
			return nil, nil, withCode(exitBadInput, err)
		}
	}
	return renames, m, nil
}
