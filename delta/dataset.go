package delta

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/extsort"
	"github.com/imbundle/imbundle/spec"
)

// Options say where and with how much memory a delta sorts.
type Options struct {
	TempDir    string // "" = os.TempDir()
	SortMemory int64  // per sort; 0 = DefaultSortMemory
}

// DefaultSortMemory is each external sort's memory budget.
const DefaultSortMemory = 32 << 20

// Writer compares one dataset of a source with its state in a chain
// (SPEC.md §14.2). It takes the source's record batches (Write), spooling
// them and sorting their entity keys, and writes the delta into the bundle
// dataset when closed. Not safe for concurrent use.
type Writer struct {
	chain  *Chain
	ds     *spec.Dataset
	schema *arrow.Schema
	dw     *bundle.DatasetWriter
	opts   Options

	seg     *segment
	key     []string // nil: the dataset has no entities
	cols    []int
	ttl     ttls
	whole   string // why it is carried whole, if it is
	digest  bundle.Digest
	state   sum
	spool   *os.File
	spoolW  *ipc.FileWriter
	batches int
	cur     *extsort.Sorter
	kbuf    []byte
	vbuf    []byte
	// streams: a Redis database holding a stream goes whole (see
	// holdsStreams).
	streams streams
}

// Dataset starts the comparison of dataset ds (as the source describes it,
// with its schema) with its state in c; dw is the bundle dataset the delta
// is written into.
func (c *Chain) Dataset(ds *spec.Dataset, schema *arrow.Schema, dw *bundle.DatasetWriter, opts Options) (*Writer, error) {
	if opts.SortMemory <= 0 {
		opts.SortMemory = DefaultSortMemory
	}
	w := &Writer{chain: c, ds: ds, schema: schema, dw: dw, opts: opts, ttl: ttlColumns(ds, schema), streams: streamsOf(ds, schema)}
	w.seg = c.find(ds.Name)
	switch {
	case w.seg == nil:
		w.whole = "not in the parent"
	default:
		if why := redefined(ds, schema, w.seg.ds[len(w.seg.ds)-1]); why != "" {
			w.whole = why
		}
	}
	if w.whole == "" {
		w.key = EntityKey(ds, schema)
		if w.key != nil {
			w.cols = keyCols(schema, w.key)
			w.cur = extsort.New(opts.TempDir, opts.SortMemory)
		}
	}
	f, err := os.CreateTemp(opts.TempDir, "imbundle-delta-spool-*.arrow")
	if err != nil {
		return nil, fmt.Errorf("dataset %q: delta spool: %w", ds.Name, err)
	}
	w.spool = f
	// LZ4: the spool holds every row of the dataset, on disk only until
	// Close; ZSTD would cost more CPU than the bytes it saves here.
	if w.spoolW, err = ipc.NewFileWriter(f, ipc.WithSchema(schema), ipc.WithLZ4()); err != nil {
		w.cleanup()
		return nil, fmt.Errorf("dataset %q: delta spool: %w", ds.Name, err)
	}
	return w, nil
}

// redefined says how ds differs from its parent's definition prior, or "".
func redefined(ds *spec.Dataset, schema *arrow.Schema, prior *spec.Dataset) string {
	same := func(a, b any) bool {
		x, _ := json.Marshal(a)
		y, _ := json.Marshal(b)
		return bytes.Equal(x, y)
	}
	switch {
	case ds.Kind != prior.Kind || ds.Namespace != prior.Namespace || ds.Object != prior.Object || ds.Source != prior.Source:
		return "it is another object than the parent's"
	case !same(bundle.ColumnsOf(schema), prior.Columns) || !same(ds.PrimaryKey, prior.PrimaryKey):
		return "its columns or key changed"
	case ds.DDL != prior.DDL || ds.Filter != prior.Filter || !same(ds.Options, prior.Options):
		return "its definition, options or filter changed"
	case !same(memberNames(ds.Members), memberNames(prior.Members)):
		return "its member tables changed"
	}
	return ""
}

func memberNames(ms []spec.Member) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Object+"\x00"+m.DDL)
	}
	return out
}

// Write takes the source's next batch.
func (w *Writer) Write(rec arrow.RecordBatch) error {
	if err := w.spoolW.Write(rec); err != nil {
		return fmt.Errorf("dataset %q: delta spool: %w", w.ds.Name, err)
	}
	b := w.batches
	w.batches++
	w.streams.see(rec)
	var err error
	w.digest.EachRowHash(rec, func(i int, h *[32]byte) {
		w.state.addRow(h[:])
		if w.cur == nil || err != nil {
			return
		}
		var ok bool
		if w.kbuf, ok = appendKey(w.kbuf[:0], rec, w.cols, i); !ok {
			// A row without a key (a document without _id): the
			// dataset has no entities.
			w.cur.Close()
			w.cur, w.key, w.whole = nil, nil, ""
			return
		}
		var e expiry
		w.ttl.of(rec, i, &e)
		w.vbuf = append(w.vbuf[:0], h[:]...)
		w.vbuf = binary.BigEndian.AppendUint32(w.vbuf, uint32(b))
		w.vbuf = binary.BigEndian.AppendUint32(w.vbuf, uint32(i))
		w.vbuf = e.append(w.vbuf)
		err = w.cur.Add(w.kbuf, w.vbuf)
	})
	return err
}

// Close decides what the delta carries of the dataset and writes it into
// the bundle dataset (not closing it), then removes its temporary files.
func (w *Writer) Close() error {
	defer w.cleanup()
	if err := w.spoolW.Close(); err != nil {
		return fmt.Errorf("dataset %q: delta spool: %w", w.ds.Name, err)
	}
	dd := spec.DatasetDelta{State: w.state.digest(), Removed: sum{}.digest()}
	var prior sum
	if w.seg != nil {
		var err error
		if prior, err = sumOf(spec.StateDigest(w.seg.ds[len(w.seg.ds)-1])); err != nil {
			return fmt.Errorf("dataset %q: the parent's state: %w", w.ds.Name, err)
		}
	}
	switch {
	case w.whole != "":
		dd.Change = spec.ChangeWhole
	case w.streams.held:
		dd.Change = spec.ChangeWhole
	case w.key == nil && sameDigest(prior.digest(), dd.State):
		dd.Change = spec.ChangeNone
	case w.key == nil:
		dd.Change = spec.ChangeWhole
	}
	if dd.Change == spec.ChangeWhole {
		if err := w.copyAll(); err != nil {
			return err
		}
		w.dw.SetDelta(dd)
		return nil
	}
	if dd.Change == spec.ChangeNone {
		w.dw.SetDelta(dd)
		return nil
	}
	dd.Key = w.key
	if err := w.compare(&dd); err != nil {
		return fmt.Errorf("dataset %q: delta: %w", w.ds.Name, err)
	}
	w.dw.SetDelta(dd)
	return nil
}

func (w *Writer) cleanup() {
	if w.cur != nil {
		w.cur.Close()
	}
	if w.spool != nil {
		w.spool.Close()
		os.Remove(w.spool.Name())
	}
}

// openSpool reads the spooled batches back.
func (w *Writer) openSpool() (*ipc.FileReader, error) {
	if _, err := w.spool.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return ipc.NewFileReader(w.spool, ipc.WithAllocator(memory.DefaultAllocator))
}

// copyAll writes every spooled row: the dataset carried whole.
func (w *Writer) copyAll() error {
	fr, err := w.openSpool()
	if err != nil {
		return fmt.Errorf("dataset %q: delta spool: %w", w.ds.Name, err)
	}
	defer fr.Close()
	for i := 0; i < fr.NumRecords(); i++ {
		rec, err := fr.RecordBatchAt(i)
		if err != nil {
			return fmt.Errorf("dataset %q: delta spool: %w", w.ds.Name, err)
		}
		err = w.dw.Write(rec)
		rec.Release()
		if err != nil {
			return err
		}
	}
	return nil
}
