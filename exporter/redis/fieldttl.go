package redis

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/internal/redistype"
	"github.com/imbundle/imbundle/internal/redistype/resp"
	"github.com/imbundle/imbundle/spec"
)

// Hash fields with their own TTL (Redis 7.4+ HPEXPIRE) are carried in the
// field_expire_at_ms column (SPEC.md §8.2), which a keyspace dataset has
// only when INFO keyspace's subexpiry said its database had such hashes
// when the export began: every other database, and every server without
// field TTLs, is read and written exactly as before, at no extra cost.

// fieldGone is HPEXPIRETIME's answer for a field that does not exist.
const fieldGone int64 = -2

// fieldTTLMode says how one Read handles field TTLs.
type fieldTTLMode struct {
	column bool // the rows have field_expire_at_ms
	read   bool // fields' TTLs are read with HPEXPIRETIME (the database has some)
}

func (m fieldTTLMode) schema() *arrow.Schema {
	if m.column {
		return redistype.SchemaFieldTTL
	}
	return redistype.Schema
}

// fieldTTLMode decides for a Read of ds in db: the column when ds has it;
// HPEXPIRETIME only when INFO keyspace says db holds hashes with field
// TTLs now. A verify --against a server without them (Redis < 7.4) reads
// NULLs, and CheckSide names the fields whose TTL is missing.
func (s *Source) fieldTTLMode(ctx context.Context, ds *spec.Dataset, db int) (fieldTTLMode, error) {
	if !redistype.HasFieldTTLs(ds) {
		return fieldTTLMode{}, nil
	}
	n, err := s.subexpiry(ctx, db)
	if err != nil {
		return fieldTTLMode{}, err
	}
	return fieldTTLMode{column: true, read: n > 0}, nil
}

// subexpiry is db's INFO keyspace subexpiry figure (0 when absent).
func (s *Source) subexpiry(ctx context.Context, db int) (int64, error) {
	c, err := s.dial(ctx, 0)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	v, err := c.Do(ctx, "INFO", "keyspace")
	if err != nil {
		return 0, fmt.Errorf("%s: INFO keyspace: %w", s.redacted, err)
	}
	if v.Kind != resp.KindBulk {
		return 0, nil // no INFO keyspace (miniredis): no field TTLs either
	}
	return parseSubexpiry(string(v.Str))[db], nil
}

// describeFieldTTLs returns, per exported database, the number of hashes
// with field TTLs (INFO keyspace subexpiry) whose TTLs the export carries.
// With skip-field-ttl=true it carries none: they are recorded as not
// carried, in the manifest and on the log.
func (s *Source) describeFieldTTLs(sub map[int]int64, dbs []int, d *exporter.Description) map[int]int64 {
	carry := map[int]int64{}
	var total int64
	var names []string
	for _, db := range dbs {
		if n := sub[db]; n > 0 {
			carry[db] = n
			total += n
			names = append(names, fmt.Sprintf("db%d: %d hashes", db, n))
		}
	}
	if total == 0 {
		return nil
	}
	if !s.skipFieldTTL {
		d.Notes = append(d.Notes, fmt.Sprintf("hash field TTLs (Redis 7.4+ HPEXPIRE) are carried in field_expire_at_ms (%s, per INFO keyspace subexpiry); a target that cannot hold them refuses the import", strings.Join(names, ", ")))
		return carry
	}
	u := spec.Uncarried{Kind: "hash field TTL", Count: total, Names: names,
		Reason: "hash fields with their own TTL (HPEXPIRE) are exported without it, as fields that never expire: exported with --param skip-field-ttl=true"}
	d.Uncarried = append(d.Uncarried, u)
	if s.opts.Log != nil {
		s.opts.Log.Warn("not carried: hash field TTLs", "hashes", total, "databases", strings.Join(names, ", "))
	}
	return nil
}

// heldHash is a hash read whole, held until its fields' TTLs are read.
type heldHash struct {
	probed
	elems []resp.Value // field, value, field, value...
}

// appendHeldHashes reads the field TTLs of the batch's small hashes in one
// pipelined round, then appends their rows. A hash all of whose fields
// went meanwhile is probed again (it is gone, or retyped).
func (d *readDec) appendHeldHashes() error {
	w := d.w
	if len(d.hashes) == 0 {
		return nil
	}
	w.buf.Reset()
	for _, h := range d.hashes {
		encodeFieldExpiries(&w.buf, h.key, h.elems)
	}
	exps := make([][]int64, 0, len(d.hashes))
	if err := w.c.Round(w.ctx, &w.buf, func(i int, v resp.Value) error {
		h := d.hashes[i]
		e, err := parseFieldExpiries(v, len(h.elems)/2)
		if err != nil {
			return fmt.Errorf("HPEXPIRETIME %s: %w", showKey(h.key), err)
		}
		exps = append(exps, e)
		return nil
	}); err != nil {
		return err
	}
	for i, h := range d.hashes {
		w.countGone(exps[i])
		w.fexp = exps[i]
		n, err := w.appendElems(h.probed, h.elems, 0, false)
		w.fexp = nil
		if err != nil {
			return err
		}
		if n == 0 {
			d.again = append(d.again, h.key)
			continue
		}
		w.b.KeyRow(h.key, redistype.Hash, n, "", h.exp)
		if err := w.keyAppended(h.key); err != nil {
			return err
		}
	}
	d.hashes = nil
	return nil
}

// appendPage appends one page of a big key; a hash page first has its
// fields' TTLs read (one round trip per page).
func (w *worker) appendPage(p probed, elems []resp.Value, seq int64) (int64, error) {
	if p.typ != redistype.Hash || !w.ft.read || len(elems) == 0 {
		return w.appendElems(p, elems, seq, true)
	}
	w.buf.Reset()
	encodeFieldExpiries(&w.buf, p.key, elems)
	var exps []int64
	if err := w.c.Round(w.ctx, &w.buf, func(_ int, v resp.Value) error {
		var err error
		exps, err = parseFieldExpiries(v, len(elems)/2)
		return err
	}); err != nil {
		return seq, fmt.Errorf("HPEXPIRETIME %s: %w", showKey(p.key), err)
	}
	w.countGone(exps)
	w.fexp = exps
	defer func() { w.fexp = nil }()
	return w.appendElems(p, elems, seq, true)
}

func (w *worker) countGone(exps []int64) {
	var n int64
	for _, e := range exps {
		if e == fieldGone {
			n++
		}
	}
	if n > 0 {
		w.cnt.add(func(c *counters) { c.fieldsGone += n })
	}
}

// encodeFieldExpiries appends HPEXPIRETIME key FIELDS n f1..fn for the
// fields of an HSCAN page (field, value, field, value...).
func encodeFieldExpiries(b *resp.Buf, key []byte, elems []resp.Value) {
	b.Begin("HPEXPIRETIME")
	b.Arg(key)
	b.ArgString("FIELDS")
	b.ArgString(strconv.Itoa(len(elems) / 2))
	for i := 0; i+1 < len(elems); i += 2 {
		b.Arg(elems[i].Str)
	}
	b.End()
}

// parseFieldExpiries reads an HPEXPIRETIME reply for n fields: per field
// its absolute expiry in Unix ms, redistype.NoExpiry (-1: none) or
// fieldGone (-2: no such field). A key that went (an empty or nil reply)
// or was replaced by another type (WRONGTYPE) has every field gone.
func parseFieldExpiries(v resp.Value, n int) ([]int64, error) {
	out := make([]int64, n)
	gone := func() ([]int64, error) {
		for i := range out {
			out[i] = fieldGone
		}
		return out, nil
	}
	if err := v.Err(); err != nil {
		if resp.IsServerError(err, "WRONGTYPE") {
			return gone()
		}
		return nil, err
	}
	if v.Kind == resp.KindNil || (v.Kind == resp.KindArray && len(v.Elems) == 0) {
		return gone()
	}
	if v.Kind != resp.KindArray || len(v.Elems) != n {
		return nil, fmt.Errorf("unexpected reply %s for %d fields", v.String(), n)
	}
	for i, e := range v.Elems {
		if e.Kind != resp.KindInt || e.Int < fieldGone {
			return nil, fmt.Errorf("unexpected reply %s for field %d of %d", e.String(), i+1, n)
		}
		out[i] = e.Int
	}
	return out, nil
}
