package redis

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/internal/redistype"
	"github.com/imbundle/imbundle/internal/redistype/resp"
)

// fieldTTLsPerRound is how many hash fields one pipelined round of
// HPEXPIRETIME asks about.
const fieldTTLsPerRound = 2000

// fieldTTLCheck compares the bundle's hash field expiry times with the
// target's (verify --against), as CheckSide does keys': within the TTL
// tolerance, and a field has a TTL on both sides or on neither. A target
// without HPEXPIRETIME (Redis < 7.4, Pika, Kvrocks) holds no field TTL, so
// each bundle field with one is a difference naming its key and field.
type fieldTTLCheck struct {
	c     *resp.Conn
	tol   time.Duration
	limit int
	row   int64 // dataset row of the next field added
	diffs []exporter.Difference

	keys   [][]byte // pending, grouped by key (a key's rows are contiguous)
	first  []int64  // dataset row of each key's first field
	fields [][][]byte
	wants  [][]int64
	n      int
	noCmd  bool // the target answered HPEXPIRETIME with "unknown command"
	buf    resp.Buf
}

// add takes row i of the bundle if it is a hash field.
func (f *fieldTTLCheck) add(ctx context.Context, rows *redistype.Rows, i int) error {
	row := f.row
	f.row++
	if rows.IsKeyRow(i) || rows.Type(i) != redistype.Hash {
		return nil
	}
	k := rows.Key(i)
	if n := len(f.keys); n == 0 || !bytes.Equal(f.keys[n-1], k) {
		f.keys = append(f.keys, bytes.Clone(k))
		f.first = append(f.first, row)
		f.fields = append(f.fields, nil)
		f.wants = append(f.wants, nil)
	}
	last := len(f.keys) - 1
	f.fields[last] = append(f.fields[last], bytes.Clone(rows.Field(i)))
	f.wants[last] = append(f.wants[last], rows.FieldExpireAt(i))
	f.n++
	if f.n >= fieldTTLsPerRound {
		return f.flush(ctx)
	}
	return nil
}

// flush asks the target about the pending fields: one HPEXPIRETIME per key.
func (f *fieldTTLCheck) flush(ctx context.Context) error {
	if f.n == 0 {
		return nil
	}
	gots := make([][]int64, len(f.keys))
	if !f.noCmd {
		f.buf.Reset()
		for i, k := range f.keys {
			f.buf.Begin("HPEXPIRETIME")
			f.buf.Arg(k)
			f.buf.ArgString("FIELDS")
			f.buf.ArgString(strconv.Itoa(len(f.fields[i])))
			for _, fl := range f.fields[i] {
				f.buf.Arg(fl)
			}
			f.buf.End()
		}
		if err := f.c.Round(ctx, &f.buf, func(i int, v resp.Value) error {
			if err := v.Err(); err != nil && resp.IsServerError(err, "ERR unknown command") {
				f.noCmd = true
				return nil
			}
			e, err := parseFieldExpiries(v, len(f.fields[i]))
			if err != nil {
				return fmt.Errorf("HPEXPIRETIME %s: %w", showKey(f.keys[i]), err)
			}
			gots[i] = e
			return nil
		}); err != nil {
			return err
		}
	}
	for i, k := range f.keys {
		for j, fl := range f.fields[i] {
			want, got := f.wants[i][j], redistype.NoExpiry
			if gots[i] != nil {
				got = gots[i][j]
			}
			if ttlMatch(want, got, f.tol) || got == fieldGone {
				// A field missing on the target is the digest's
				// difference (verify reports it there), not a TTL's.
				continue
			}
			f.diffs = append(f.diffs, exporter.Difference{Row: f.first[i] + int64(j), BundleKey: showField(k, fl, want, false), TargetKey: showField(k, fl, got, f.noCmd)})
			if len(f.diffs) >= f.limit {
				return errEnough
			}
		}
	}
	f.keys, f.first, f.fields, f.wants, f.n = f.keys[:0], f.first[:0], f.fields[:0], f.wants[:0], 0
	return nil
}

func showField(k, field []byte, exp int64, noCmd bool) []string {
	out := []string{showKey(k), "field " + showKey(field)}
	switch {
	case noCmd:
		return append(out, "no field TTL (the server has no HPEXPIRETIME: Redis < 7.4)")
	case exp == redistype.NoExpiry:
		return append(out, "no field TTL")
	}
	return append(out, "field_expire_at_ms="+strconv.FormatInt(exp, 10))
}
