package redis

import (
	"bytes"
	"context"
	"fmt"

	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/redistype"
	"github.com/imbundle/imbundle/internal/redistype/resp"
	"github.com/imbundle/imbundle/spec"
)

// A delta bundle's keyspace carried whole (SPEC.md §14.1: its definition
// changed since the parent) is the database's whole content: the keys of
// the target database it does not hold must go, which --mode replace
// (key by key) would keep. emptyForWhole deletes every key of db (with
// --key-prefix, every key with the prefix) but imbundle's own: the
// last-applied record and import markers.
func (t *Target) emptyForWhole(ctx context.Context, c *resp.Conn, db int) error {
	cursor := "0"
	var buf resp.Buf
	for {
		v, err := c.Do(ctx, "SCAN", cursor, "COUNT", "1000")
		if err == nil {
			err = v.Err()
		}
		if err != nil {
			return fmt.Errorf("db %d: SCAN: %w", db, err)
		}
		if v.Kind != resp.KindArray || len(v.Elems) != 2 {
			return fmt.Errorf("db %d: SCAN: unexpected reply shape", db)
		}
		cursor = string(v.Elems[0].Str)
		buf.Reset()
		for _, k := range v.Elems[1].Elems {
			if string(k.Str) == redistype.AppliedKey || bytes.HasPrefix(k.Str, []byte("imbundle:import:")) {
				continue
			}
			if len(t.prefix) > 0 && !bytes.HasPrefix(k.Str, t.prefix) {
				continue
			}
			buf.CmdKey("DEL", k.Str)
		}
		if buf.Cmds() > 0 {
			if err := c.Round(ctx, &buf, func(_ int, v resp.Value) error { return v.Err() }); err != nil {
				return fmt.Errorf("db %d: DEL: %w", db, err)
			}
		}
		if cursor == "0" {
			return nil
		}
	}
}

// wholeDBs are the databases of p's keyspaces that a delta carries whole.
func wholeDBs(p *importer.Plan) map[string]bool {
	out := map[string]bool{}
	for _, it := range p.Items {
		if d := it.Dataset.Delta; d != nil && d.Change == spec.ChangeWhole && !isStreamState(it.Dataset) {
			out[it.Namespace] = true
		}
	}
	return out
}
