package verify

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/convert"
	"github.com/imbundle/imbundle/internal/extsort"
	"github.com/imbundle/imbundle/internal/mongotype"
	"github.com/imbundle/imbundle/progress"
	"github.com/imbundle/imbundle/spec"
)

// RelationResult is how one relation of the manifest holds in the bundle's
// rows (SPEC.md §3, "Checking relations").
type RelationResult struct {
	Name    string   `json:"name,omitempty"`
	From    string   `json:"from"` // dataset(columns)
	To      string   `json:"to"`
	Values  int64    `json:"values"`                  // from-values checked: rows whose columns are all non-NULL (a document's every value of an array path)
	Orphans int64    `json:"orphans"`                 // of them, with no to-row of the same values
	First   []string `json:"first_orphans,omitempty"` // the first distinct orphan values, in sorted order
	// Skipped says why the relation was not checked (a dataset the bundle
	// lacks, a column a dataset lacks, a layout without columns).
	Skipped string `json:"skipped,omitempty"`
}

// firstOrphans is how many orphan values a result names.
const firstOrphans = 5

// RelationOptions bound the sorts a relation check needs.
type RelationOptions struct {
	TempDir string
	Memory  int64 // bytes each side's sort keeps in memory before it spills
	// Progress, when set, counts the rows the checks read from the
	// bundle (checkprogress.go).
	Progress *progress.Counter
}

// Relations checks every relation of the bundle's manifest against the
// bundle's own rows, offline: each side's values are sorted with bounded
// memory (internal/extsort, spilling runs under TempDir) and merged, so a
// relation between two tables of any size costs two sorts and one pass.
// Values compare exactly, as text: integers in decimal, floats as the
// shortest text of their bits, text and bytes as stored; a MongoDB
// collection's columns are its documents' top-level or dotted fields
// (ObjectId as its hex digits). A from-row with a NULL or missing column
// is not checked, as a foreign key does not check it. Orphans are reported,
// never an error: IM data keeps references to deleted records.
func Relations(ctx context.Context, r *bundle.Reader, o RelationOptions, each func(RelationResult)) ([]RelationResult, error) {
	m := r.Manifest()
	byName := map[string]*spec.Dataset{}
	engine := map[string]string{}
	for i := range m.Datasets {
		byName[m.Datasets[i].Name] = &m.Datasets[i]
	}
	for _, s := range m.Sources {
		engine[s.ID] = s.Engine
	}
	var out []RelationResult
	in := withProgress(bundleRows{r}, o.Progress)
	for _, rel := range m.Relations {
		res := RelationResult{Name: rel.Name, From: endText(rel.From), To: endText(rel.To)}
		checking(in, "relation "+res.From+" -> "+res.To)
		from, to := byName[rel.From.Dataset], byName[rel.To.Dataset]
		switch {
		case from == nil:
			res.Skipped = "the bundle has no dataset " + rel.From.Dataset
		case to == nil:
			res.Skipped = "the bundle has no dataset " + rel.To.Dataset
		case len(rel.From.Columns) != len(rel.To.Columns) || len(rel.From.Columns) == 0:
			res.Skipped = "the two ends name different numbers of columns"
		case rel.From.Keys != "" || rel.To.Keys != "":
			if err := keysManifestRelation(ctx, in, o, rel, &res); err != nil {
				return out, fmt.Errorf("relation %s -> %s: %w", res.From, res.To, err)
			}
		default:
			if err := checkRelation(ctx, in, o, &res, []side{{from, engine[from.Source]}}, rel.From.Columns, []side{{to, engine[to.Source]}}, rel.To.Columns); err != nil {
				return out, fmt.Errorf("relation %s -> %s: %w", res.From, res.To, err)
			}
		}
		if each != nil {
			each(res)
		}
		out = append(out, res)
	}
	return out, nil
}

func endText(e spec.RelationEnd) string {
	s := e.Dataset + "(" + strings.Join(e.Columns, ", ") + ")"
	if e.Keys != "" {
		s += " keys " + e.Keys
	}
	return s
}

// keysManifestRelation checks a manifest relation with a keys end (a Redis
// keyspace's keys by name pattern) as the relation check of a mapping does
// (checks.go): the same rows, the same sort and merge.
func keysManifestRelation(ctx context.Context, in rowsOf, o RelationOptions, rel spec.Relation, res *RelationResult) error {
	end := func(e spec.RelationEnd) convert.CheckEndSpec {
		return convert.CheckEndSpec{Of: globQuote(e.Dataset) + "(" + strings.Join(e.Columns, ", ") + ")", Keys: e.Keys}
	}
	name := rel.Name
	if name == "" {
		name = res.From + " -> " + res.To
	}
	ch := &convert.Check{Name: name, Relation: &convert.RelationCheck{From: end(rel.From), To: end(rel.To)}}
	cr := CheckResult{}
	c := newChecker(ctx, in, o)
	if err := c.relation(ch, &cr); err != nil {
		return err
	}
	res.Values, res.Orphans, res.First, res.Skipped = cr.Rows, cr.Violations, cr.First, cr.Skipped
	return nil
}

// globQuote makes a dataset name a glob that matches only itself.
func globQuote(name string) string {
	var b strings.Builder
	for _, r := range name {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// side is one dataset of a relation's end, with its source's engine. An
// end of a mapping's relation check is the union of several (checks.go).
type side struct {
	ds     *spec.Dataset
	engine string
}

func checkRelation(ctx context.Context, in rowsOf, o RelationOptions, res *RelationResult, from []side, fromCols []string, to []side, toCols []string) error {
	toSort := extsort.New(o.TempDir, o.Memory)
	defer toSort.Close()
	fromSort := extsort.New(o.TempDir, o.Memory)
	defer fromSort.Close()
	for _, t := range to {
		if why, err := sortValues(ctx, in, t.ds, t.engine, toCols, toSort, nil); why != "" || err != nil {
			res.Skipped = why
			return err
		}
	}
	for _, f := range from {
		if why, err := sortValues(ctx, in, f.ds, f.engine, fromCols, fromSort, &res.Values); why != "" || err != nil {
			res.Skipped = why
			return err
		}
	}
	return mergeOrphans(fromSort, toSort, res)
}

// mergeOrphans counts the from-values that are no to-value, naming the
// first distinct ones: both sorted, one merge.
func mergeOrphans(fromSort, toSort *extsort.Sorter, res *RelationResult) error {
	toIt, err := toSort.Sort()
	if err != nil {
		return err
	}
	fromIt, err := fromSort.Sort()
	if err != nil {
		return err
	}
	tk, _, terr := toIt.Next()
	for {
		fk, _, err := fromIt.Next()
		if err != nil {
			if isEOF(err) {
				return nil
			}
			return err
		}
		for terr == nil && string(tk) < string(fk) {
			tk, _, terr = toIt.Next()
		}
		if terr != nil && !isEOF(terr) {
			return terr
		}
		if terr == nil && string(tk) == string(fk) {
			continue
		}
		res.Orphans++
		// The keys come sorted: a repeated orphan value is named once.
		if text := tupleText(fk); len(res.First) < firstOrphans && (len(res.First) == 0 || res.First[len(res.First)-1] != text) {
			res.First = append(res.First, text)
		}
	}
}

// sortValues adds one sort key per row of ds: its columns' values as
// length-prefixed text. counted, if not nil, counts the rows added. A
// layout the check cannot read columns from gives the reason instead.
func sortValues(ctx context.Context, in rowsOf, ds *spec.Dataset, engine string, cols []string, s *extsort.Sorter, counted *int64) (string, error) {
	docs := engine == "mongodb"
	if !docs {
		have := map[string]bool{}
		for _, c := range ds.Columns {
			have[c.Name] = true
		}
		if engine == "redis" {
			return "a Redis keyspace has no columns to relate", nil
		}
		for _, c := range cols {
			if !have[c] {
				return fmt.Sprintf("dataset %s has no column %s", ds.Name, c), nil
			}
		}
	}
	var key []byte
	cells := make([][]byte, len(cols))
	err := in.each(ctx, ds, func(rec arrow.RecordBatch) error {
		var err error
		var rows *mongotype.Rows
		idx := make([]int, len(cols))
		if docs {
			if rows, err = mongotype.RowsOf(rec); err != nil {
				return err
			}
		} else {
			for i, c := range cols {
				idx[i] = rec.Schema().FieldIndices(c)[0]
			}
		}
		add := func(cells [][]byte) error {
			key = key[:0]
			for _, c := range cells {
				key = binary.AppendUvarint(key, uint64(len(c)))
				key = append(key, c...)
			}
			if counted != nil {
				*counted++
			}
			return s.Add(key, nil)
		}
		for row := 0; row < int(rec.NumRows()); row++ {
			if docs {
				for _, tuple := range docTuples(rows.Doc(row), cols) {
					if err := add(tuple); err != nil {
						return err
					}
				}
				continue
			}
			ok := true
			for i := range cols {
				if cells[i], ok = cellText(rec.Column(idx[i]), row); !ok {
					break
				}
			}
			if ok {
				if err := add(cells); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return "", err
}

// cellText is a column value as the text relations compare; false for NULL.
func cellText(a arrow.Array, i int) ([]byte, bool) {
	if a.IsNull(i) {
		return nil, false
	}
	switch a := a.(type) {
	case *array.String:
		return []byte(a.Value(i)), true
	case *array.LargeString:
		return []byte(a.Value(i)), true
	case *array.Binary:
		return a.Value(i), true
	case *array.LargeBinary:
		return a.Value(i), true
	case *array.Int8:
		return strconv.AppendInt(nil, int64(a.Value(i)), 10), true
	case *array.Int16:
		return strconv.AppendInt(nil, int64(a.Value(i)), 10), true
	case *array.Int32:
		return strconv.AppendInt(nil, int64(a.Value(i)), 10), true
	case *array.Int64:
		return strconv.AppendInt(nil, a.Value(i), 10), true
	case *array.Uint8:
		return strconv.AppendUint(nil, uint64(a.Value(i)), 10), true
	case *array.Uint16:
		return strconv.AppendUint(nil, uint64(a.Value(i)), 10), true
	case *array.Uint32:
		return strconv.AppendUint(nil, uint64(a.Value(i)), 10), true
	case *array.Uint64:
		return strconv.AppendUint(nil, a.Value(i), 10), true
	case *array.Float32:
		return strconv.AppendFloat(nil, float64(a.Value(i)), 'g', -1, 32), true
	case *array.Float64:
		return strconv.AppendFloat(nil, a.Value(i), 'g', -1, 64), true
	}
	return []byte(a.ValueStr(i)), true
}

// fieldTexts are a document field's values (dotted path) as the texts
// relations compare. As in MongoDB's dotted paths, a step into an array
// goes into each of its elements (msgs.msg.send_id is every message's
// sender); a missing or Null value gives none.
func fieldTexts(v bson.RawValue, path []string, out [][]byte) [][]byte {
	if v.Type == bson.TypeArray {
		vals, err := v.Array().Values()
		if err != nil {
			return out
		}
		for _, e := range vals {
			out = fieldTexts(e, path, out)
		}
		return out
	}
	if len(path) > 0 {
		if v.Type != bson.TypeEmbeddedDocument {
			return out
		}
		e, err := v.Document().LookupErr(path[0])
		if err != nil {
			return out
		}
		return fieldTexts(e, path[1:], out)
	}
	if t, ok := valueText(v); ok {
		out = append(out, t)
	}
	return out
}

func valueText(v bson.RawValue) ([]byte, bool) {
	switch v.Type {
	case bson.TypeNull, bson.TypeUndefined:
		return nil, false
	case bson.TypeString:
		return []byte(v.StringValue()), true
	case bson.TypeInt32:
		return strconv.AppendInt(nil, int64(v.Int32()), 10), true
	case bson.TypeInt64:
		return strconv.AppendInt(nil, v.Int64(), 10), true
	case bson.TypeDouble:
		f := v.Double()
		if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return strconv.AppendInt(nil, int64(f), 10), true // as the integer a table would hold
		}
		return strconv.AppendFloat(nil, f, 'g', -1, 64), true
	case bson.TypeObjectID:
		id := v.ObjectID()
		return []byte(hex.EncodeToString(id[:])), true
	case bson.TypeBinary:
		_, data := v.Binary()
		return data, true
	}
	return []byte(v.String()), true
}

// docTuples are the value tuples a document gives for cols: one per
// combination of the columns' values (a column reaching into an array has
// several).
func docTuples(doc bson.Raw, cols []string) [][][]byte {
	tuples := [][][]byte{nil}
	for _, c := range cols {
		vals := fieldTexts(bson.RawValue{Type: bson.TypeEmbeddedDocument, Value: doc}, strings.Split(c, "."), nil)
		var next [][][]byte
		for _, t := range tuples {
			for _, v := range vals {
				next = append(next, append(append([][]byte(nil), t...), v))
			}
		}
		tuples = next
	}
	return tuples
}

// tupleText renders a sort key (length-prefixed values) for people.
func tupleText(k []byte) string {
	var parts []string
	for len(k) > 0 {
		n, w := binary.Uvarint(k)
		if w <= 0 || uint64(len(k)-w) < n {
			break
		}
		parts = append(parts, strconv.Quote(string(k[w:w+int(n)])))
		k = k[w+int(n):]
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func isEOF(err error) bool { return errors.Is(err, io.EOF) }
