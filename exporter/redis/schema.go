package redis

import (
	"context"
	"errors"
	"fmt"

	"github.com/imbundle/imbundle/internal/redistype"
	"github.com/imbundle/imbundle/spec"
)

// DiffSchema compares the server's function libraries with the bundle's
// (exporter.SchemaDiffer): a library missing, extra or with other code is a
// difference that names it. Libraries are server-wide, so every library of
// the sources of ds is compared, whatever database the URL names.
func (s *Source) DiffSchema(ctx context.Context, m *spec.Manifest, ds []*spec.Dataset) ([]string, error) {
	srcs := map[string]bool{}
	for _, d := range ds {
		srcs[d.Source] = true
	}
	want, _ := redistype.BundleLibraries(m, srcs)
	c, err := s.dial(ctx, 0)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	have, err := redistype.Libraries(ctx, c)
	if errors.Is(err, redistype.ErrNoFunctions) {
		if len(want) == 0 {
			return nil, nil
		}
		var out []string
		for _, l := range want {
			out = append(out, fmt.Sprintf("function library %q is missing on the target (it has no FUNCTION command)", l.Name))
		}
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.redacted, err)
	}
	return redistype.DiffLibraries(want, have), nil
}
