package rollback

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/spec"
)

// Leftovers names the tables and collections (and MongoDB views) of
// rb.Absent that target holds: objects the import created that a
// rollback drops, for verify --against of a rollback bundle. MySQL views
// and routines, and Redis databases, are not looked up.
func Leftovers(ctx context.Context, rb *spec.Rollback, target string, log *slog.Logger) ([]string, error) {
	missing, err := Capture{Target: target, Engine: rb.Engine}.missingDatabases(ctx, rb.Absent)
	if err != nil {
		return nil, err
	}
	f := &exporter.Filter{Absent: true}
	for _, o := range rb.Absent {
		if missing[o.Namespace] {
			continue // gone with its database
		}
		if o.Kind == KindTable || o.Kind == KindCollection || rb.Engine == "mongodb" && o.Kind == spec.ObjectView {
			f.Include = append(f.Include, pattern(o.Namespace, o.Name))
		}
	}
	if len(f.Include) == 0 {
		return nil, nil
	}
	u, err := SourceURL(target, rb.Engine)
	if err != nil {
		return nil, err
	}
	src, err := exporter.Open(ctx, u, exporter.Options{Filter: f, Log: log})
	if err != nil {
		return nil, err
	}
	defer src.Close()
	desc, err := src.Describe(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, d := range desc.Datasets {
		out = append(out, fmt.Sprintf("%s.%s exists, which did not before the import (rollback drops it)", d.Spec.Namespace, d.Spec.Object))
	}
	for _, o := range desc.Objects {
		if o.Kind == spec.ObjectView {
			out = append(out, fmt.Sprintf("view %s.%s exists, which did not before the import (rollback drops it)", o.Namespace, o.Name))
		}
	}
	return out, nil
}
