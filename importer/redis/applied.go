package redis

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/redistype"
)

// LastApplied reads the bundle_id field of each namespace's (database's)
// imbundle:applied hash (importer.Applied).
func (t *Target) LastApplied(ctx context.Context, p *importer.Plan) (map[string]string, error) {
	out := map[string]string{}
	for _, ns := range p.Namespaces {
		db, err := strconv.Atoi(ns)
		if err != nil {
			return nil, fmt.Errorf("target database %q is not a number", ns)
		}
		pl, err := t.pool(ctx, db)
		if err != nil {
			return nil, err
		}
		v, err := pl.conns[0].Do(ctx, "HGET", redistype.AppliedKey, "bundle_id")
		if err == nil {
			err = v.Err()
		}
		if err != nil {
			return nil, fmt.Errorf("db %d: read %s: %w", db, redistype.AppliedKey, err)
		}
		if len(v.Str) > 0 {
			out[ns] = string(v.Str)
		}
	}
	return out, nil
}

// RecordApplied writes p's bundle into each namespace's imbundle:applied
// hash (importer.Applied).
func (t *Target) RecordApplied(ctx context.Context, p *importer.Plan) error {
	base, depth := p.Lineage()
	at := t.now().UTC().Format(time.RFC3339Nano)
	for _, ns := range p.Namespaces {
		db, err := strconv.Atoi(ns)
		if err != nil {
			return fmt.Errorf("target database %q is not a number", ns)
		}
		pl, err := t.pool(ctx, db)
		if err != nil {
			return err
		}
		v, err := pl.conns[0].Do(ctx, "HSET", redistype.AppliedKey, "bundle_id", p.BundleID, "base_id", base, "depth", strconv.Itoa(depth), "applied_at", at)
		if err == nil {
			err = v.Err()
		}
		if err != nil {
			return fmt.Errorf("db %d: write %s: %w", db, redistype.AppliedKey, err)
		}
	}
	return nil
}

// ForgetApplied deletes each namespace's imbundle:applied hash
// (importer.Applied).
func (t *Target) ForgetApplied(ctx context.Context, p *importer.Plan) error {
	for _, ns := range p.Namespaces {
		db, err := strconv.Atoi(ns)
		if err != nil {
			return fmt.Errorf("target database %q is not a number", ns)
		}
		pl, err := t.pool(ctx, db)
		if err != nil {
			return err
		}
		if _, err := pl.conns[0].Do(ctx, "DEL", redistype.AppliedKey); err != nil {
			return fmt.Errorf("db %d: delete %s: %w", db, redistype.AppliedKey, err)
		}
	}
	return nil
}
