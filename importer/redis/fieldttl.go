package redis

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/redistype"
	"github.com/imbundle/imbundle/internal/redistype/resp"
)

// Hash fields with their own TTL (the field_expire_at_ms column, SPEC.md
// §8.5) are written with HSET like any field, then given their expiry with
// HPEXPIREAT (Redis 7.4+), fields of one expiry time together, right after
// the HSET that wrote them and on the same connection: a run killed after
// it leaves them expiring as the bundle says. A field already expired at
// import time is not written, and counted as expired.

// checkFieldTTLTarget refuses, before anything is written, a target that
// cannot hold field TTLs when a dataset of the plan has them: written there,
// those fields would never expire. One probe, COMMAND INFO HPEXPIREAT,
// answers nil on Redis < 7.4 and an error where COMMAND INFO is missing.
func (t *Target) checkFieldTTLTarget(ctx context.Context, p *importer.Plan, c *resp.Conn) error {
	var (
		names  []string
		hashes int64
	)
	for _, it := range p.Items {
		if isStreamState(it.Dataset) || !redistype.HasFieldTTLs(it.Dataset) {
			continue
		}
		n := redistype.FieldTTLHashes(it.Dataset)
		hashes += n
		names = append(names, fmt.Sprintf("dataset %q: %d hashes", it.Dataset.Name, n))
	}
	if len(names) == 0 {
		return nil
	}
	v, err := c.Do(ctx, "COMMAND", "INFO", "HPEXPIREAT")
	if err != nil {
		return fmt.Errorf("%s: COMMAND INFO HPEXPIREAT: %w", t.redacted, err)
	}
	if hasCommand(v) {
		return nil
	}
	server := "the server"
	if info, err := c.Do(ctx, "INFO", "server"); err == nil && info.Kind == resp.KindBulk {
		kind, ver := redistype.ServerKind(string(info.Str))
		server = kind + " " + ver
	}
	return fmt.Errorf("%s (%s) cannot hold hash field TTLs (no HPEXPIREAT: Redis 7.4+ and Valkey 9+ have it), and the bundle has hashes whose fields have their own TTL (%s; %d in all): written here, those fields would never expire; nothing was written. Import into a Redis 7.4+ or Valkey 9+ target, or re-export the source with --param skip-field-ttl=true to leave the field TTLs out (recorded in the manifest)", t.redacted, server, strings.Join(names, ", "), hashes)
}

// hasCommand reads a COMMAND INFO reply for one command: an array whose
// element is nil for a command the server does not know.
func hasCommand(v resp.Value) bool {
	return v.Kind == resp.KindArray && len(v.Elems) == 1 && v.Elems[0].Kind == resp.KindArray && len(v.Elems[0].Elems) > 0
}

// runFieldTTLs is what a key's run keeps of its hash fields' own expiry.
type runFieldTTLs struct {
	pending []fieldTTL // fields of the HSET being built that have one
	written int64      // fields written (HSET) in this part
	expired int64      // fields skipped as expired in this part
	head    bool       // the key starts in this part
}

type fieldTTL struct {
	field []byte // copied
	exp   int64  // absolute, Unix ms
}

// hashFieldExpired looks at hash row i's own expiry before it is written:
// an expired field is skipped (and counted), a live one is kept for the
// HPEXPIREAT after its HSET.
func (l *loader) hashFieldExpired(r *run, rows *redistype.Rows, i int) bool {
	exp := rows.FieldExpireAt(i)
	if exp == redistype.NoExpiry {
		r.fields.written++
		return false
	}
	if l.t.expired(exp, l.it, l.t.now().UnixMilli()) {
		r.fields.expired++
		l.expiredFields++
		return true
	}
	r.fields.written++
	r.fields.pending = append(r.fields.pending, fieldTTL{bytes.Clone(rows.Field(i)), exp})
	return false
}

// sendFieldTTLs follows the HSET just ended with the HPEXPIREAT (or, with
// --ttl relative, HPEXPIRE) of its fields, one command per expiry time.
func (l *loader) sendFieldTTLs(r *run) {
	if len(r.fields.pending) == 0 {
		return
	}
	for _, g := range groupByExpiry(r.fields.pending, l.t.elems) {
		name, at := "HPEXPIREAT", g.exp
		if l.t.ttlRelative {
			name, at = "HPEXPIRE", g.exp-l.exportedAt
		}
		s := l.seg()
		s.buf.Begin(name)
		s.buf.Arg(r.key)
		s.buf.ArgString(strconv.FormatInt(at, 10))
		s.buf.ArgString("FIELDS")
		s.buf.ArgString(strconv.Itoa(len(g.fields)))
		for _, f := range g.fields {
			s.buf.Arg(f)
		}
		s.buf.End()
		l.cmdDone(cmdMeta{kind: kindControl, key: r.key, name: name})
	}
	r.fields.pending = r.fields.pending[:0]
}

// allFieldsExpired: every field of a hash that lies wholly in this part was
// skipped as expired, so the key is not on the target (as Redis deletes a
// hash whose last field expires) and counts as expired itself.
func (r *run) allFieldsExpired() bool {
	return r.fields.head && r.typ == redistype.Hash && r.fields.expired > 0 && r.fields.written == 0
}

// expiryGroup is fields sharing one expiry time, at most max per command.
type expiryGroup struct {
	exp    int64
	fields [][]byte
}

// groupByExpiry groups fields by expiry time, earliest first, in commands
// of at most max fields each.
func groupByExpiry(fs []fieldTTL, max int) []expiryGroup {
	sorted := append([]fieldTTL(nil), fs...)
	sort.SliceStable(sorted, func(a, b int) bool { return sorted[a].exp < sorted[b].exp })
	var out []expiryGroup
	for _, f := range sorted {
		if n := len(out); n == 0 || out[n-1].exp != f.exp || len(out[n-1].fields) >= max {
			out = append(out, expiryGroup{exp: f.exp})
		}
		g := &out[len(out)-1]
		g.fields = append(g.fields, f.field)
	}
	return out
}
