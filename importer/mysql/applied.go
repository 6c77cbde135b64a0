package mysql

import (
	"context"
	"fmt"
	"strings"

	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/mysqltype"
)

// The last-applied record (SPEC.md §14.3): one row per target database
// in the state schema's table applied, naming the bundle last imported
// into it. Unlike the resume state it outlives the import: the next delta
// of the chain is checked against it.

const appliedTable = "applied"

const appliedDDL = "CREATE TABLE IF NOT EXISTS %s (" +
	"db VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL, " +
	"bundle_id CHAR(64) CHARACTER SET ascii NOT NULL, " +
	"base_id CHAR(64) CHARACTER SET ascii NOT NULL, " +
	"depth INT NOT NULL, " +
	"applied_at DATETIME(6) NOT NULL, " +
	"PRIMARY KEY (db)" +
	") ENGINE=InnoDB"

// LastApplied reads the record of p's namespaces (importer.Applied).
func (t *Target) LastApplied(ctx context.Context, p *importer.Plan) (map[string]string, error) {
	out := map[string]string{}
	if len(p.Namespaces) == 0 {
		return out, nil
	}
	conn, err := t.db.Conn(ctx)
	if err != nil {
		return nil, mysqltype.StepError(t.cfg, t.url, "connect", err)
	}
	defer conn.Close()
	if ok, err := t.stateExists(ctx, conn, appliedTable); err != nil || !ok {
		return out, err
	}
	args := make([]any, len(p.Namespaces))
	for i, ns := range p.Namespaces {
		args[i] = ns
	}
	rows, err := conn.QueryContext(ctx, "SELECT db, bundle_id FROM "+t.stateTable(appliedTable)+" WHERE db IN (?"+strings.Repeat(", ?", len(args)-1)+")", args...)
	if err != nil {
		return nil, fmt.Errorf("%s: read %s: %w", t.url, t.stateTable(appliedTable), err)
	}
	defer rows.Close()
	for rows.Next() {
		var db, id string
		if err := rows.Scan(&db, &id); err != nil {
			return nil, err
		}
		out[db] = id
	}
	return out, rows.Err()
}

// RecordApplied records p's bundle as the last applied to each of its
// namespaces, in one statement (importer.Applied).
func (t *Target) RecordApplied(ctx context.Context, p *importer.Plan) error {
	if len(p.Namespaces) == 0 {
		return nil
	}
	conn, err := t.db.Conn(ctx)
	if err != nil {
		return mysqltype.StepError(t.cfg, t.url, "connect", err)
	}
	defer conn.Close()
	for _, stmt := range []string{
		"CREATE DATABASE IF NOT EXISTS " + q(t.stateSchema) + " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
		fmt.Sprintf(appliedDDL, t.stateTable(appliedTable)),
	} {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("%s: create %s: %w (the importing user needs CREATE on it; --param state-schema=NAME picks another)", t.url, t.stateTable(appliedTable), err)
		}
	}
	base, depth := p.Lineage()
	var args []any
	for _, ns := range p.Namespaces {
		args = append(args, ns, p.BundleID, base, depth)
	}
	stmt := "REPLACE INTO " + t.stateTable(appliedTable) + " (db, bundle_id, base_id, depth, applied_at) VALUES (?, ?, ?, ?, NOW(6))" +
		strings.Repeat(", (?, ?, ?, ?, NOW(6))", len(p.Namespaces)-1)
	if _, err := conn.ExecContext(ctx, stmt, args...); err != nil {
		return fmt.Errorf("%s: write %s: %w", t.url, t.stateTable(appliedTable), err)
	}
	return nil
}

// ForgetApplied deletes the record of p's namespaces (importer.Applied).
func (t *Target) ForgetApplied(ctx context.Context, p *importer.Plan) error {
	if len(p.Namespaces) == 0 {
		return nil
	}
	conn, err := t.db.Conn(ctx)
	if err != nil {
		return mysqltype.StepError(t.cfg, t.url, "connect", err)
	}
	defer conn.Close()
	if ok, err := t.stateExists(ctx, conn, appliedTable); err != nil || !ok {
		return err
	}
	args := make([]any, len(p.Namespaces))
	for i, ns := range p.Namespaces {
		args[i] = ns
	}
	if _, err := conn.ExecContext(ctx, "DELETE FROM "+t.stateTable(appliedTable)+" WHERE db IN (?"+strings.Repeat(", ?", len(args)-1)+")", args...); err != nil {
		return fmt.Errorf("%s: clear %s: %w", t.url, t.stateTable(appliedTable), err)
	}
	return nil
}
