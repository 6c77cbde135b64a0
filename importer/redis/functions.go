package redis

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/redistype"
	"github.com/imbundle/imbundle/internal/redistype/resp"
)

// prepareFunctions decides, before anything is written, which of the
// bundle's function libraries Finish loads. A library already on the target
// with the same code needs nothing; with other code it is refused in fail
// and append mode (code cannot be merged) and replaced in replace mode. A
// target without FUNCTION cannot hold them: refused unless functions=false.
func (t *Target) prepareFunctions(ctx context.Context, p *importer.Plan, c *resp.Conn) error {
	srcs := map[string]bool{}
	for _, it := range p.Items {
		srcs[it.Source.ID] = true
	}
	libs, unknown := redistype.BundleLibraries(p.Manifest, srcs)
	if len(unknown) > 0 {
		var names []string
		for _, o := range unknown {
			names = append(names, fmt.Sprintf("%s %q", o.Kind, o.Name))
		}
		return fmt.Errorf("the bundle holds objects a Redis target cannot restore: %s; nothing was written (a newer imbundle may)", strings.Join(names, ", "))
	}
	if len(libs) == 0 || t.noFuncs {
		return nil
	}
	have, err := redistype.Libraries(ctx, c)
	if errors.Is(err, redistype.ErrNoFunctions) {
		return importer.Refused(fmt.Errorf("%s has no FUNCTION command and cannot hold the bundle's function libraries %s; nothing was written. Import into Redis 7 or later, or pass --param functions=false to leave them out", t.redacted, libNames(libs)))
	}
	if err != nil {
		return fmt.Errorf("%s: %w", t.redacted, err)
	}
	code := map[string]string{}
	for _, l := range have {
		code[l.Name] = l.Code
	}
	var clash []redistype.Library
	for _, l := range libs {
		c, ok := code[l.Name]
		switch {
		case !ok:
			t.libs = append(t.libs, l)
		case c == l.Code:
			// Already there, as an earlier run of this import or the
			// application left it.
		case t.mode == importer.ModeReplace:
			t.libs = append(t.libs, l)
		default:
			clash = append(clash, l)
		}
	}
	if len(clash) > 0 {
		return fmt.Errorf("--mode %s: %s already holds function libraries %s with other code; nothing was written. Use --mode replace (FUNCTION LOAD REPLACE), or remove them from the target (FUNCTION DELETE), or pass --param functions=false", t.mode, t.redacted, libNames(clash))
	}
	return nil
}

// loadFunctions loads the libraries prepareFunctions chose, after the data.
func (t *Target) loadFunctions(ctx context.Context) error {
	if len(t.libs) == 0 {
		return nil
	}
	var c *resp.Conn
	t.mu.Lock()
	for _, p := range t.pools {
		c = p.conns[0]
		break
	}
	t.mu.Unlock()
	for _, l := range t.libs {
		args := []string{"FUNCTION", "LOAD", l.Code}
		if t.mode == importer.ModeReplace {
			args = []string{"FUNCTION", "LOAD", "REPLACE", l.Code}
		}
		v, err := c.Do(ctx, args...)
		if err == nil {
			err = v.Err()
		}
		if err != nil {
			return fmt.Errorf("FUNCTION LOAD of library %q: %w", l.Name, err)
		}
	}
	return nil
}

func libNames(libs []redistype.Library) string {
	var names []string
	for _, l := range libs {
		names = append(names, fmt.Sprintf("%q", l.Name))
	}
	return strings.Join(names, ", ")
}
