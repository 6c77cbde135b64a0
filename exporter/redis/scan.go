package redis

import (
	"bytes"
	"context"
	"fmt"
	"strconv"

	"github.com/imbundle/imbundle/internal/redistype"
	"github.com/imbundle/imbundle/internal/redistype/resp"
)

// scan walks the database with SCAN (never KEYS) and sends batches of new
// keys. A key SCAN returns twice (a rehash on Redis, a cursor that Pika or
// Kvrocks silently restarted) is sent once: the KeySet remembers every key
// sent, by 128-bit hash, about 32 bytes per key.
//
// typ, if not empty, keeps keys of that type only: SCAN TYPE where the
// server has it (Redis 6+), else a pipelined TYPE of each page.
//
// sel, if not nil, keeps the keys of one converted dataset only.
func (s *Source) scan(ctx context.Context, c *resp.Conn, db int, cnt *counters, typ string, sel *keySelection, out chan<- [][]byte) error {
	var seen redistype.KeySet
	pattern := s.matchPattern()
	if pattern == "" && sel != nil {
		// The schema key is outside the pattern (no table or collection
		// is named imbundle): the reader asks for it by name.
		pattern = sel.pattern()
	}
	var buf resp.Buf
	cursor := "0"
	serverType := typ != ""
	batch := make([][]byte, 0, s.batchKeys)
	for {
		buf.Reset()
		buf.Begin("SCAN")
		buf.ArgString(cursor)
		if pattern != "" {
			buf.ArgString("MATCH")
			buf.ArgString(pattern)
		}
		buf.ArgString("COUNT")
		buf.ArgString(strconv.Itoa(s.scanCount))
		if serverType {
			buf.ArgString("TYPE")
			buf.ArgString(typ)
		}
		buf.End()
		var reply resp.Value
		if err := c.Round(ctx, &buf, func(_ int, v resp.Value) error { reply = v; return nil }); err != nil {
			return fmt.Errorf("SCAN db %d: %w", db, err)
		}
		if err := reply.Err(); err != nil && serverType && cursor == "0" {
			serverType = false // no SCAN TYPE here: filter with TYPE
			continue
		} else if err != nil {
			return fmt.Errorf("SCAN db %d cursor %s: %w", db, cursor, err)
		}
		if reply.Kind != resp.KindArray || len(reply.Elems) != 2 || reply.Elems[1].Kind != resp.KindArray {
			return fmt.Errorf("SCAN db %d: unexpected reply shape", db)
		}
		cursor = string(reply.Elems[0].Str)
		page := make([][]byte, 0, len(reply.Elems[1].Elems))
		for _, k := range reply.Elems[1].Elems {
			if len(s.prefix) > 0 && !bytes.HasPrefix(k.Str, s.prefix) || !sel.has(k.Str) {
				continue
			}
			if string(k.Str) == redistype.AppliedKey {
				continue // imbundle's last-applied record, not the user's data (SPEC.md §14.3)
			}
			page = append(page, k.Str)
		}
		if typ != "" && !serverType {
			var err error
			if page, err = keepType(ctx, c, page, typ); err != nil {
				return fmt.Errorf("db %d: %w", db, err)
			}
		}
		if s.onScanPage != nil && typ == "" {
			page = s.onScanPage(db, page)
		}
		dups := 0
		for _, k := range page {
			if !seen.Add(k) {
				dups++
				continue
			}
			batch = append(batch, k)
			if len(batch) >= s.batchKeys {
				select {
				case out <- batch:
				case <-ctx.Done():
					return ctx.Err()
				}
				batch = make([][]byte, 0, s.batchKeys)
			}
		}
		if dups > 0 {
			cnt.add(func(c *counters) { c.duplicates += int64(dups) })
		}
		if cursor == "0" {
			break
		}
	}
	if len(batch) > 0 {
		select {
		case out <- batch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// keepType returns the keys of page whose TYPE is typ.
func keepType(ctx context.Context, c *resp.Conn, page [][]byte, typ string) ([][]byte, error) {
	if len(page) == 0 {
		return page, nil
	}
	var buf resp.Buf
	for _, k := range page {
		buf.CmdKey("TYPE", k)
	}
	kept := page[:0:0]
	err := c.Round(ctx, &buf, func(i int, v resp.Value) error {
		if err := v.Err(); err != nil {
			return fmt.Errorf("TYPE %s: %w", showKey(page[i]), err)
		}
		if string(v.Str) == typ {
			kept = append(kept, page[i])
		}
		return nil
	})
	return kept, err
}
