package convert

import (
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/extsort"
	"github.com/imbundle/imbundle/internal/mongotype"
)

// joinRecords converts a table with its embedded datasets (embedRows):
// sortInput puts every parent row (its whole document) and every child
// row (its element) into one sort, keyed by join key, then the dataset
// (the parent first, then the embeds in order), then the child's order
// columns; Next builds the document of each run of one join key.
type joinRecords struct {
	p      *embedPlan
	in     Records
	inputs []Records
	reject func(Reject) error
	spill  Spill

	parent docRecords
	kids   []docRecords

	sortedDocs // its group is the run's encoded join key

	hasParent bool
	doc       []byte // the parent's document without its final NUL, growing
	parentRow int64
	cur       int   // the embed being filled, -1 before the first
	arrAt     int32 // its array's start (a many embed)
	n         int   // its elements so far
	tooBig    bool
	children  int // child rows in the document, for a reject
	key, enc  []byte
}

func newJoinRecords(p *embedPlan, in Records, inputs []Records, reject func(Reject) error, spill Spill) *joinRecords {
	j := &joinRecords{p: p, in: in, inputs: inputs, reject: reject, spill: spill, parent: docRecords{t: p.parent, reject: reject}}
	for _, k := range p.kids {
		j.kids = append(j.kids, docRecords{t: k.t, reject: reject})
	}
	j.step = j.next
	return j
}

func (j *joinRecords) next() (arrow.RecordBatch, error) {
	if j.it == nil {
		if len(j.inputs) != len(j.p.kids) {
			return nil, fmt.Errorf("convert: the embedding conversion needs %d embedded datasets, was given %d", len(j.p.kids), len(j.inputs))
		}
		if err := j.sortInput(); err != nil {
			return nil, err
		}
		j.b = mongotype.NewBuilder(memory.DefaultAllocator)
	}
	return j.runs(j)
}

// start begins the run of the join key j.group.
func (j *joinRecords) start(int64) error {
	j.hasParent, j.tooBig, j.children, j.cur = false, false, 0, -1
	return nil
}

// add takes one sorted entry: the tag after the join key is 0 for the
// parent's document, k+1 for a row of embed k.
func (j *joinRecords) add(key []byte, jlen int, row int64, elem []byte) error {
	if jlen >= len(key) {
		return errBadNested
	}
	tag := int(key[jlen])
	if tag == 0 {
		if j.hasParent { // a unique key with equal bytes twice: cannot happen unless the bundle is wrong
			return fmt.Errorf("convert: %s has two rows with the join key %s (rows %d and %d)", j.p.parent.ds.Name, j.keyText(), j.parentRow, row)
		}
		j.hasParent, j.parentRow = true, row
		j.doc = append(j.doc[:0], elem[:len(elem)-1]...)
		return nil
	}
	k := tag - 1
	if k >= len(j.p.kids) {
		return errBadNested
	}
	kid := j.p.kids[k]
	if !j.hasParent {
		return j.rejectChild(kid, row, elem, fmt.Sprintf("no row of %s has the key %s (embed at %s)", j.p.parent.ds.Name, j.keyText(), kid.where))
	}
	for j.cur < k {
		j.closeEmbed()
		j.cur++
		j.openEmbed()
	}
	e := kid.e
	if e.One && j.n > 0 {
		return j.rejectChild(kid, row, elem, fmt.Sprintf("a second row for the %s row with the key %s, and embed one: true takes one (%s)", j.p.parent.ds.Name, j.keyText(), kid.where))
	}
	j.n++
	j.children++
	if j.tooBig {
		return nil
	}
	name := strconv.Itoa(j.n - 1)
	if e.One {
		name = e.Into
	}
	// the element, then the ends of the open array and of the document
	if len(j.doc)+1+len(name)+1+len(elem)+2*len(j.p.kids)+1 > maxDocument {
		j.tooBig = true
		return nil
	}
	switch {
	case e.One && e.Into == "":
		j.doc = append(j.doc, elem[4:len(elem)-1]...) // the child's fields, merged in
	default:
		j.doc = bsoncore.AppendDocumentElement(j.doc, name, elem)
	}
	return nil
}

// openEmbed starts embed j.cur's field; closeEmbed ends it.
func (j *joinRecords) openEmbed() {
	j.n = 0
	if e := j.p.kids[j.cur].e; !e.One {
		j.arrAt, j.doc = bsoncore.AppendArrayElementStart(j.doc, e.Into)
	}
}

func (j *joinRecords) closeEmbed() {
	if j.cur < 0 || j.p.kids[j.cur].e.One {
		return
	}
	j.doc, _ = bsoncore.AppendArrayEnd(j.doc, j.arrAt)
}

// finish hands the run's document to the builder, or rejects it.
func (j *joinRecords) finish() error {
	if !j.hasParent {
		return nil // its children were rejected as they came
	}
	for j.cur < len(j.p.kids)-1 { // the embeds without rows: empty arrays
		j.closeEmbed()
		j.cur++
		j.openEmbed()
	}
	j.closeEmbed()
	if j.tooBig {
		text := j.keyText()
		return j.reject(Reject{Row: j.parentRow, Key: []string{text},
			Reason: fmt.Sprintf("the document of the %s row with the key %s would pass 16 MiB, BSON's limit, with its %d embedded rows (%s)", j.p.parent.ds.Name, text, j.children, j.p.where),
			Values: map[string]any{"key": text, "embedded_rows": strconv.Itoa(j.children)}})
	}
	j.doc = append(j.doc, 0)
	j.doc = bsoncore.UpdateLength(j.doc, 0, int32(len(j.doc)))
	return j.b.Append(bson.Raw(j.doc))
}

func (j *joinRecords) rejectChild(kid *embedKid, row int64, elem []byte, why string) error {
	return j.reject(Reject{Dataset: kid.e.Dataset, Row: row, Key: []string{j.keyText()}, Reason: why, Values: map[string]any{"element": bson.Raw(elem).String()}})
}

// keyText renders the run's join key for a reject line.
func (j *joinRecords) keyText() string { return joinKeyText(j.group) }

// sortInput reads the parent dataset, then each embedded one, into the
// sort; rows a filter leaves out and rows that cannot be a document or an
// element are counted or rejected at once, and each embedded dataset's
// rows are checked against its manifest digest as they are read.
func (j *joinRecords) sortInput() error {
	j.sorter = extsort.New(j.spill.Dir, j.spill.memory())
	if err := eachRow(j.in, func(rec arrow.RecordBatch, i int, row int64) error { return j.sortParent(rec, i, row) }); err != nil {
		return err
	}
	for k, in := range j.inputs {
		kid := j.p.kids[k]
		sum := &digestReader{in: in}
		if err := eachRow(sum, func(rec arrow.RecordBatch, i int, row int64) error { return j.sortChild(k, rec, i, row) }); err != nil {
			return fmt.Errorf("embedded dataset %q: %w", kid.e.Dataset, err)
		}
		if got, want := sum.d.Spec(), kid.e.ds.Digest; got.Sum != want.Sum || got.Rows != want.Rows {
			return fmt.Errorf("embedded dataset %q: its rows digest to %s (%d rows), the manifest says %s (%d rows); the bundle is wrong: export it again", kid.e.Dataset, got.Sum, got.Rows, want.Sum, want.Rows)
		}
	}
	it, err := j.sorter.Sort()
	if err != nil {
		return err
	}
	j.it = it
	return nil
}

// eachRow calls fn on every row of in, numbered from 0.
func eachRow(in Records, fn func(rec arrow.RecordBatch, i int, row int64) error) error {
	var row int64
	for {
		rec, err := in.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			if err := fn(rec, i, row); err != nil {
				return err
			}
			row++
		}
	}
}

// digestReader digests the batches it hands on, as the importer's
// digestingSource does for a dataset it loads itself.
type digestReader struct {
	in Records
	d  bundle.Digest
}

func (r *digestReader) Next() (arrow.RecordBatch, error) {
	rec, err := r.in.Next()
	if err == nil {
		r.d.AddRecord(rec)
	}
	return rec, err
}

func (j *joinRecords) sortParent(rec arrow.RecordBatch, i int, row int64) error {
	d := &j.parent
	if f := d.t.filter; f != nil {
		keep, err := f.keep(&d.vals, rec, i, row)
		if err != nil {
			return j.reject(Reject{Row: row, Key: d.key(rec, i), Reason: fmt.Sprintf("the filter at %s fails on this row: %v", d.t.where, err), Values: rowValues(rec, i)})
		}
		if !keep {
			return j.reject(Reject{Row: row, Key: d.key(rec, i), Filtered: true, Reason: "left out by the filter at " + d.t.where})
		}
	}
	doc, why := d.document(rec, i, row)
	if why != "" {
		return j.reject(Reject{Row: row, Key: d.key(rec, i), Reason: why, Values: rowValues(rec, i)})
	}
	key, null := appendJoinKey(j.key[:0], rec, j.p.key, i)
	if null { // a NULL key matches no child: a key of its own
		key = binary.BigEndian.AppendUint64(append(j.key[:0], 0), uint64(row))
	}
	jlen := len(key)
	j.key = append(key, 0)
	return j.add2(j.key, row, jlen, doc)
}

func (j *joinRecords) sortChild(k int, rec arrow.RecordBatch, i int, row int64) error {
	kid, d := j.p.kids[k], &j.kids[k]
	rejectRow := func(why string) error {
		return j.reject(Reject{Dataset: kid.e.Dataset, Row: row, Key: d.key(rec, i), Reason: why, Values: rowValues(rec, i)})
	}
	if f := d.t.filter; f != nil {
		keep, err := f.keep(&d.vals, rec, i, row)
		if err != nil {
			return rejectRow(fmt.Sprintf("the filter at %s fails on this row: %v", d.t.where, err))
		}
		if !keep {
			return j.reject(Reject{Dataset: kid.e.Dataset, Row: row, Key: d.key(rec, i), Filtered: true, Reason: "left out by the filter at " + d.t.where})
		}
	}
	key, null := appendJoinKey(j.key[:0], rec, kid.key, i)
	if null {
		return rejectRow(fmt.Sprintf("its join key is NULL, which matches no row of %s (embed at %s)", j.p.parent.ds.Name, kid.where))
	}
	jlen := len(key)
	key = append(key, byte(k+1))
	for _, o := range kid.order {
		key = encodeOrder(key, rec.Column(o.col), i)
	}
	j.key = key
	elem, why := d.element(rec, i, row)
	if why != "" {
		return rejectRow(why)
	}
	return j.add2(key, row, jlen, elem)
}

// add2 puts one entry into the sort: the value is the row number, the
// join key's length and the document or element.
func (j *joinRecords) add2(key []byte, row int64, jlen int, doc []byte) error {
	j.enc = binary.AppendUvarint(j.enc[:0], uint64(row))
	j.enc = binary.AppendUvarint(j.enc, uint64(jlen))
	j.enc = append(j.enc, doc...)
	return j.sorter.Add(key, j.enc)
}

// Join keys sort as bytes, each column in turn: an integer as
// appendInteger makes it (so INT 7 and BIGINT UNSIGNED 7 are one key),
// text 's' and binary 'b' and their bytes with NUL
// escaped (00 ff) and ended by 00 01, so that no key is a prefix of
// another. A parent row with a NULL in its key gets 00 and its row
// number instead, a key no child has.
func appendJoinKey(dst []byte, rec arrow.RecordBatch, cols []int, i int) ([]byte, bool) {
	for _, c := range cols {
		col := rec.Column(c)
		if col.IsNull(i) {
			return dst, true
		}
		if out, ok := appendInteger(dst, col, i); ok {
			dst = out
			continue
		}
		switch a := col.(type) {
		case *array.String:
			dst = appendEscaped(append(dst, 's'), []byte(a.Value(i)))
		case *array.LargeString:
			dst = appendEscaped(append(dst, 's'), []byte(a.Value(i)))
		case *array.Binary:
			dst = appendEscaped(append(dst, 'b'), a.Value(i))
		case *array.LargeBinary:
			dst = appendEscaped(append(dst, 'b'), a.Value(i))
		case *array.FixedSizeBinary:
			dst = appendEscaped(append(dst, 'b'), a.Value(i))
		}
	}
	return dst, false
}

// joinKeyText renders an encoded join key: its values, comma-separated.
func joinKeyText(enc []byte) string {
	var out []string
	for len(enc) > 0 {
		switch enc[0] {
		case 'i':
			if len(enc) < 9 {
				return joinedText(out)
			}
			out = append(out, strconv.FormatInt(int64(binary.BigEndian.Uint64(enc[1:9])^1<<63), 10))
			enc = enc[9:]
		case 'j':
			if len(enc) < 9 {
				return joinedText(out)
			}
			out = append(out, strconv.FormatUint(binary.BigEndian.Uint64(enc[1:9]), 10))
			enc = enc[9:]
		case 's', 'b':
			end := 1
			for end+1 < len(enc) && !(enc[end] == 0 && enc[end+1] == 1) {
				if enc[end] == 0 {
					end++
				}
				end++
			}
			v := unescape(enc[1:])
			if enc[0] == 'b' {
				out = append(out, fmt.Sprintf("0x%x", v))
			} else {
				out = append(out, strconv.Quote(string(v)))
			}
			enc = enc[min(end+2, len(enc)):]
		default: // a NULL key (00 and a row number)
			return "NULL"
		}
	}
	return joinedText(out)
}

func joinedText(vals []string) string {
	if len(vals) == 1 {
		return vals[0]
	}
	return "(" + strings.Join(vals, ", ") + ")"
}
