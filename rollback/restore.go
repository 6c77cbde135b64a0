package rollback

import (
	"context"
	"errors"
	"fmt"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/scheme"
	"github.com/imbundle/imbundle/spec"
	"github.com/imbundle/imbundle/verify"
)

// ErrNotRollback is a bundle without a rollback entry: an export, which
// `import --mode replace` restores.
var ErrNotRollback = errors.New("not a rollback bundle")

// Restore puts target back to the state the rollback bundle r holds: it
// drops what the import created (Rollback.Absent; for Redis it empties
// each database the bundle restores), then imports r's prior content with
// --mode replace. opts are the import's (jobs, log, progress, rejects);
// the mode is replace whatever they say.
func Restore(ctx context.Context, r *bundle.Reader, target string, opts importer.Options) (*importer.Report, error) {
	m := r.Manifest()
	rb := m.Rollback
	if rb == nil {
		return nil, fmt.Errorf("bundle %s: %w (its manifest has no rollback entry); nothing was written. To restore an export, import it with --mode replace", short(r.ID()), ErrNotRollback)
	}
	e, err := importer.EngineOf(target)
	if err != nil {
		return nil, err
	}
	if redacted := scheme.Redact(target); redacted != rb.Target || e.Name != rb.Engine {
		return nil, importer.Refused(fmt.Errorf("this rollback bundle undoes the import of bundle %s into %s, not into %s; nothing was written. Give --target %s", short(rb.Of), rb.Target, redacted, rb.Target))
	}
	opts.Mode = importer.ModeReplace
	opts.BeforeWrite = nil
	opts.ForgetApplied = true
	t, err := importer.Open(ctx, target, opts)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	d, ok := t.(importer.Dropper)
	if !ok {
		return nil, fmt.Errorf("a %s target cannot drop objects: no rollback", e.Name)
	}
	// Everything is read and checked before the first drop: a damaged
	// rollback bundle changes nothing.
	if err := verify.Offline(ctx, r, opts.Jobs, false, nil); err != nil {
		return nil, fmt.Errorf("rollback bundle: nothing was written: %w", err)
	}
	var first, last []spec.RollbackObject
	for _, o := range rb.Absent {
		if o.Kind == KindDatabase && e.Name == "mysql" {
			last = append(last, o) // once its tables are gone
			continue
		}
		first = append(first, o)
	}
	if e.Name == "redis" {
		seen := map[string]bool{}
		for _, o := range first {
			seen[o.Namespace] = true
		}
		for _, ds := range m.Datasets {
			if !seen[ds.Namespace] {
				seen[ds.Namespace] = true
				first = append(first, spec.RollbackObject{Kind: KindDatabase, Namespace: ds.Namespace})
			}
		}
	}
	if err := d.Drop(ctx, first); err != nil {
		return nil, err
	}
	rep := &importer.Report{BundleID: r.ID()}
	if len(m.Datasets) > 0 {
		if rep, err = importer.Import(ctx, r, t, opts); err != nil {
			return rep, err
		}
	}
	if err := d.Drop(ctx, last); err != nil {
		return rep, err
	}
	return rep, nil
}
