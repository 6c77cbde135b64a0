package redis

import (
	"bytes"

	"context"
	"fmt"
	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/redistype"
	"github.com/imbundle/imbundle/internal/redistype/resp"
)

const (
	existsPerCmd = 100 // keys per multi-key EXISTS
	maxNamed     = 5   // existing keys named in the error
)

// checkAbsent is --mode fail: before anything is written, every key the
// bundle would write to db is looked up with pipelined multi-key EXISTS;
// if any exists, the import stops naming a few of them.
func (t *Target) checkAbsent(ctx context.Context, p *importer.Plan, c *resp.Conn, db int, items []*importer.Item) error {
	if p.ReadPart == nil {
		return fmt.Errorf("--mode fail needs to read the bundle before writing, and this importer build cannot")
	}
	var (
		keys  [][]byte // pending keys, copied out of their records
		found int64
		named []string
		buf   resp.Buf
	)
	now := t.now().UnixMilli()
	flush := func() error {
		if len(keys) == 0 {
			return nil
		}
		buf.Reset()
		for i := 0; i < len(keys); i += existsPerCmd {
			buf.Begin("EXISTS")
			for _, k := range keys[i:min(i+existsPerCmd, len(keys))] {
				buf.Arg(k)
			}
			buf.End()
		}
		var hit []int // commands that found something
		err := c.Round(ctx, &buf, func(i int, v resp.Value) error {
			if err := v.Err(); err != nil {
				return fmt.Errorf("EXISTS: %w", err)
			}
			if v.Int > 0 {
				found += v.Int
				hit = append(hit, i)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, h := range hit {
			if len(named) >= maxNamed {
				break
			}
			chunk := keys[h*existsPerCmd : min((h+1)*existsPerCmd, len(keys))]
			buf.Reset()
			for _, k := range chunk {
				buf.CmdKey("EXISTS", k)
			}
			err := c.Round(ctx, &buf, func(i int, v resp.Value) error {
				if v.Int > 0 && len(named) < maxNamed {
					named = append(named, showKey(chunk[i]))
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		keys = keys[:0]
		return nil
	}
	for _, it := range items {
		for part := range it.Dataset.Parts {
			pr, err := p.ReadPart(it.Dataset, part)
			if err != nil {
				return err
			}
			err = importer.Drain(pr, func(rec arrow.RecordBatch) error {
				rows, err := redistype.NewRows(rec)
				if err != nil {
					return err
				}
				for i := 0; i < rows.N; i++ {
					if !rows.IsKeyRow(i) {
						continue
					}
					k := rows.Key(i)
					if len(t.prefix) > 0 && !bytes.HasPrefix(k, t.prefix) {
						continue
					}
					if t.expired(rows.ExpireAt(i), it, now) {
						continue
					}
					keys = append(keys, bytes.Clone(k))
					if len(keys) >= existsPerCmd*t.batch/10 {
						if err := flush(); err != nil {
							return err
						}
					}
				}
				return nil
			})
			pr.Close()
			if err == nil && found > 0 {
				break
			}
			if err != nil {
				return fmt.Errorf("dataset %q part %d: %w", it.Dataset.Name, part, err)
			}
		}
		if found > 0 {
			break
		}
	}
	if err := flush(); err != nil {
		return err
	}
	if found == 0 {
		return nil
	}
	return &importer.NonEmptyError{Kind: "key", Objects: named,
		Detail: fmt.Sprintf("db %d already holds %d of the keys this bundle would write, found before stopping; --db-map sends the bundle to another database", db, found)}
}

// expired reports whether a key with absolute expiry exp (ms) is expired at
// import time now: in relative mode, whether it had no time left at export.
func (t *Target) expired(exp int64, it *importer.Item, now int64) bool {
	if exp == redistype.NoExpiry {
		return false
	}
	if t.ttlRelative {
		return exp-it.Source.ExportedAt.UnixMilli() <= 0
	}
	return exp <= now
}
