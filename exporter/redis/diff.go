package redis

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/internal/redistype"
	"github.com/imbundle/imbundle/internal/redistype/resp"
	"github.com/imbundle/imbundle/spec"
)

const diffBatchKeys = 500

var errEnough = errors.New("enough differences")

// keySum is the order-independent digest of one key's rows: the sum of
// their row hashes modulo 2^256, as the dataset digest is made.
type keySum [4]uint64

func (s *keySum) add(h [32]byte) {
	var carry uint64
	for limb := 3; limb >= 0; limb-- {
		s[limb], carry = bits.Add64(s[limb], binary.BigEndian.Uint64(h[limb*8:]), carry)
	}
}

// grouper cuts a stream of keyspace rows into keys (a key's rows are
// contiguous) and digests each.
type grouper struct {
	state  bool // rows of the stream-state layout, not the keyspace's
	d      bundle.Digest
	key    []byte
	sum    keySum
	exp    int64
	active bool
	onKey  func(key []byte, sum keySum, exp int64) error
}

func (g *grouper) add(rec arrow.RecordBatch) error {
	var (
		n   int
		key func(int) []byte
		exp = func(int) int64 { return redistype.NoExpiry }
	)
	if g.state {
		rows, err := redistype.NewGroupRows(rec)
		if err != nil {
			return err
		}
		n, key = rows.N, rows.Key
	} else {
		rows, err := redistype.NewRows(rec)
		if err != nil {
			return err
		}
		n, key, exp = rows.N, rows.Key, rows.ExpireAt
	}
	for i := 0; i < n; i++ {
		k := key(i)
		if !g.active || !bytes.Equal(k, g.key) {
			if err := g.flush(); err != nil {
				return err
			}
			g.key, g.sum, g.exp, g.active = append(g.key[:0], k...), keySum{}, exp(i), true
		}
		g.sum.add(g.d.RowHash(rec, i))
	}
	return nil
}

func (g *grouper) flush() error {
	if !g.active {
		return nil
	}
	g.active = false
	return g.onKey(bytes.Clone(g.key), g.sum, g.exp)
}

// Diff names the first keys whose rows differ between the bundle and the
// target (exporter.Differ): every bundle key is looked up on the target in
// pipelined batches and digested alone; then a SCAN of the target names
// keys the bundle does not have.
func (s *Source) Diff(ctx context.Context, ds *spec.Dataset, bundleRows func(func(arrow.RecordBatch) error) error, limit int) ([]exporter.Difference, error) {
	db, err := s.dbOf(ds)
	if err != nil {
		return nil, err
	}
	state := isStreamState(ds)
	read, typ := s.read, ""
	if state {
		read, typ = s.readStreamState, string(redistype.Stream)
	}
	var (
		diffs   []exporter.Difference
		all     redistype.KeySet
		pending = map[string]keySum{}
		order   [][]byte
		row     int64
	)
	check := func() error {
		if len(order) == 0 {
			return nil
		}
		got := map[string]keySum{}
		g := &grouper{state: state, onKey: func(k []byte, sum keySum, _ int64) error { got[string(k)] = sum; return nil }}
		ch := make(chan [][]byte, 1)
		ch <- order
		close(ch)
		err := read(ctx, db, &counters{skipped: map[string]int64{}}, g.add, ch)
		if err == nil {
			err = g.flush()
		}
		if err != nil {
			return err
		}
		for _, k := range order {
			t, ok := got[string(k)]
			switch {
			case !ok:
				diffs = append(diffs, exporter.Difference{Row: row, BundleKey: []string{showKey(k)}})
			case t != pending[string(k)]:
				diffs = append(diffs, exporter.Difference{Row: row, BundleKey: []string{showKey(k)}, TargetKey: []string{showKey(k)}})
			}
			row++
			if len(diffs) >= limit {
				return errEnough
			}
		}
		clear(pending)
		order = order[:0]
		return nil
	}
	g := &grouper{state: state, onKey: func(k []byte, sum keySum, _ int64) error {
		all.Add(k)
		pending[string(k)] = sum
		order = append(order, k)
		if len(order) >= diffBatchKeys {
			return check()
		}
		return nil
	}}
	err = bundleRows(g.add)
	if err == nil {
		err = g.flush()
	}
	if err == nil {
		err = check()
	}
	if errors.Is(err, errEnough) {
		return diffs, nil
	}
	if err != nil {
		return diffs, err
	}
	// Keys on the target that the bundle lacks.
	c, err := s.dial(ctx, db)
	if err != nil {
		return diffs, err
	}
	defer c.Close()
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan [][]byte, 1)
	errc := make(chan error, 1)
	go func() {
		defer close(ch)
		errc <- s.scan(sctx, c, db, &counters{skipped: map[string]int64{}}, typ, selectionOf(ds), ch)
	}()
	for batch := range ch {
		for _, k := range batch {
			if len(diffs) >= limit {
				break
			}
			if !all.Has(k) {
				diffs = append(diffs, exporter.Difference{Row: row, TargetKey: []string{showKey(k)}})
				row++
			}
		}
		if len(diffs) >= limit {
			cancel()
		}
	}
	if err := <-errc; err != nil && sctx.Err() == nil {
		return diffs, err
	}
	return diffs, nil
}

// ttlTolerance is how far apart the bundle's and the target's expiry times
// may be: clocks, the time between a key's PTTL read and the export clock,
// and servers (Kvrocks's old encoding) that keep seconds only.
func (s *Source) ttlTolerance() (time.Duration, error) {
	v := s.opts.Param("ttl-tolerance")
	if v == "" {
		return 2 * time.Second, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return d, nil
	}
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil && ms >= 0 {
		return time.Duration(ms) * time.Millisecond, nil
	}
	return 0, fmt.Errorf("ttl-tolerance=%q: want a duration such as 2s or 1500ms", v)
}

// ttlMatch reports whether expiry times want (the bundle's) and got (the
// target's, -2 if absent) agree: both NoExpiry, or both times within tol.
func ttlMatch(want, got int64, tol time.Duration) bool {
	if want == got {
		return true
	}
	if want == redistype.NoExpiry || got < 0 {
		return false
	}
	d := want - got
	return time.Duration(max(d, -d))*time.Millisecond <= tol
}

// CheckSide compares expiry times, which the content digest leaves out
// (exporter.SideChecker): for every bundle key, the target's PTTL (read in
// pipelined batches, turned into an absolute time with the local clock)
// must be within the tolerance of the bundle's expire_at_ms, and a key has
// a TTL on both sides or on neither.
func (s *Source) CheckSide(ctx context.Context, ds *spec.Dataset, bundleRows func(func(arrow.RecordBatch) error) error, limit int) ([]exporter.Difference, error) {
	if isStreamState(ds) {
		return nil, nil // no expiry times: the digest is the whole comparison
	}
	db, err := s.dbOf(ds)
	if err != nil {
		return nil, err
	}
	tol, err := s.ttlTolerance()
	if err != nil {
		return nil, err
	}
	c, err := s.dial(ctx, db)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var (
		diffs []exporter.Difference
		keys  [][]byte
		exps  []int64
		row   int64
		buf   resp.Buf
	)
	show := func(k []byte, exp int64) []string {
		switch exp {
		case redistype.NoExpiry:
			return []string{showKey(k), "no TTL"}
		case -2:
			return []string{showKey(k), "absent"}
		}
		return []string{showKey(k), "expire_at_ms=" + strconv.FormatInt(exp, 10)}
	}
	check := func() error {
		if len(keys) == 0 {
			return nil
		}
		buf.Reset()
		for _, k := range keys {
			buf.CmdKey("PTTL", k)
		}
		ttls := make([]int64, len(keys))
		if err := c.Round(ctx, &buf, func(i int, v resp.Value) error {
			if err := v.Err(); err != nil {
				return fmt.Errorf("PTTL %s: %w", showKey(keys[i]), err)
			}
			ttls[i] = v.Int
			return nil
		}); err != nil {
			return err
		}
		now := time.Now().UnixMilli()
		for i, k := range keys {
			want, got := exps[i], ttls[i]
			switch {
			case got == -2:
			case got == -1:
				got = redistype.NoExpiry
			default:
				got += now
			}
			if !ttlMatch(want, got, tol) {
				diffs = append(diffs, exporter.Difference{Row: row, BundleKey: show(k, want), TargetKey: show(k, got)})
				if len(diffs) >= limit {
					return errEnough
				}
			}
			row++
		}
		keys, exps = keys[:0], exps[:0]
		return nil
	}
	var fields *fieldTTLCheck // hash fields' own expiry times, when the bundle has them
	if redistype.HasFieldTTLs(ds) {
		fields = &fieldTTLCheck{c: c, tol: tol, limit: limit}
	}
	err = bundleRows(func(rec arrow.RecordBatch) error {
		rows, err := redistype.NewRows(rec)
		if err != nil {
			return err
		}
		for i := 0; i < rows.N; i++ {
			if fields != nil {
				if err := fields.add(ctx, rows, i); err != nil {
					return err
				}
			}
			if !rows.IsKeyRow(i) {
				continue
			}
			keys = append(keys, bytes.Clone(rows.Key(i)))
			exps = append(exps, rows.ExpireAt(i))
			if len(keys) >= 1000 {
				if err := check(); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err == nil {
		err = check()
	}
	if err == nil && fields != nil {
		err = fields.flush(ctx)
	}
	if errors.Is(err, errEnough) {
		err = nil
	}
	if fields != nil {
		diffs = append(diffs, fields.diffs...)
		diffs = diffs[:min(len(diffs), limit)]
	}
	return diffs, err
}
