package main

import (
	"fmt"
	"strings"
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
