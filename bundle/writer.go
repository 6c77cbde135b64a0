package bundle

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"filippo.io/age"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"

	"github.com/imbundle/imbundle/spec"
)

// Options tune a Writer. The zero value is usable.
type Options struct {
	PartBytes int64 // uncompressed Arrow bytes per part; DefaultPartBytes if 0
	// TempDir holds the parts while they are compressed (staging.go); the
	// bundle's directory if "". At most one part per dataset being written
	// is staged at a time.
	TempDir string
	// MemoryStageBytes of a part are staged in memory before it goes to a
	// staging file; DefaultMemoryStageBytes if 0, none if negative.
	MemoryStageBytes int64
	Tool             spec.Tool
	Now              func() time.Time
	// Compression is the ZSTD level of the parts (recorded in the
	// manifest); the zero value is LevelDefault.
	Compression CompressionLevel
	// Command names the export writing the bundle (its sources and
	// options, never a secret). Set, the writer keeps a journal beside
	// the partial file (journal.go) and Create resumes the partial a
	// killed run of the same Command left; Create refuses one of another
	// Command with a *CommandMismatchError. "": no journal, every Create
	// starts over. An encrypted bundle (EncryptTo) keeps no journal: its
	// parts are sealed to a bundle key that a new run would not have.
	Command string
	// Restart discards a killed run's partial file and journal instead of
	// resuming them.
	Restart bool
	// EncryptTo encrypts the bundle to these age recipients (SPEC.md
	// §10.2); none writes it in clear.
	EncryptTo []age.Recipient
	// VolumeBytes, if positive, splits the bundle into volumes of at
	// most this many bytes beside path, which becomes their index
	// (SPEC.md §2.6). A volume export keeps no journal: a killed one
	// starts over.
	VolumeBytes int64
	// Logical says the export may write logical datasets (a manifest
	// dataset with members, SPEC.md §3): the bundle is then format
	// LogicalVersion, which readers of format 2 refuse (they would load a
	// logical dataset as one table of its name).
	Logical bool
	// Delta makes the bundle a delta of the bundle it names (SPEC.md
	// §14), format DeltaVersion: every dataset then records its
	// DatasetDelta (DatasetWriter.SetDelta). A delta keeps no journal.
	Delta *spec.Delta
	// VolumeSink, with VolumeBytes, publishes the volumes and the index
	// elsewhere (an object store) instead of renaming them into place
	// beside path: each volume as soon as it is finished, the index
	// last. path and its volumes are then only staged locally, one volume
	// at a time, each removed once put.
	VolumeSink VolumeSink
	// format, if set, is the bundle's format version instead of the one
	// the options imply (Repack keeps the source's).
	format string
}

// Writer writes a bundle in one streaming pass. Parts are staged, in memory
// while small and in temporary files beyond (so several datasets can be
// written in parallel while the container stays a single sequential
// stream), and copied in when complete.
// Close writes the manifest and renames the file into place: until then only
// "<path>.partial" exists, so a partial bundle is never mistaken for one.
// An error or Abort removes the partial file and every staging file.
type Writer struct {
	path, tmp string
	stageDir  string
	opts      Options
	f         *os.File
	zw        *zipWriter
	id        string
	key       age.Recipient // the bundle's own recipient, if encrypted
	vols      *volumeWriter // the volumes, if split (Options.VolumeBytes)

	smu    sync.Mutex // guards staged
	staged map[*os.File]bool

	mu       sync.Mutex // guards zw, manifest, err
	manifest spec.Manifest
	open     int // datasets created and not closed
	err      error
	done     bool

	// A journaled export (Options.Command): journal is nil without one.
	header      journalHeader
	journal     *journal
	journaled   int              // datasets in the journal
	resuming    bool             // Keep has yet to run
	pending     []journalDataset // candidates until Keep
	resumeNotes []string
	// continued are the kept partial datasets CreateDataset has yet to
	// continue, by name.
	continued map[string]continuedDataset
}

// continuedDataset is a kept partial dataset: its index in the manifest
// (whose entry holds its kept parts) and where those parts lie.
type continuedDataset struct {
	idx     int
	entries []journalEntry
}

// Create starts a bundle at path.
func Create(path string, opts Options) (*Writer, error) {
	if opts.PartBytes <= 0 {
		opts.PartBytes = DefaultPartBytes
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MemoryStageBytes == 0 {
		opts.MemoryStageBytes = DefaultMemoryStageBytes
	}
	stageDir := opts.TempDir
	if stageDir == "" {
		stageDir = filepath.Dir(path)
	}
	f, err := openPartial(path, stageDir)
	if err != nil {
		return nil, err
	}
	if len(opts.EncryptTo) > 0 || opts.VolumeBytes > 0 {
		opts.Command = "" // no resume of an encrypted or volume export (Options.Command)
	}
	if opts.VolumeBytes > 0 && opts.VolumeBytes < MinVolumeBytes {
		f.Close()
		os.Remove(PartialPath(path))
		return nil, fmt.Errorf("create bundle: a volume size of %d bytes is under the %d-byte minimum", opts.VolumeBytes, MinVolumeBytes)
	}
	w := &Writer{path: path, tmp: PartialPath(path), stageDir: stageDir, opts: opts, f: f}
	version := spec.FormatVersion
	var keyBody []byte
	if len(opts.EncryptTo) > 0 {
		id, body, err := newBundleKey(opts.EncryptTo)
		if err != nil {
			w.Abort()
			return nil, err
		}
		w.key, keyBody, version = id.Recipient(), body, EncryptedVersion
	}
	if opts.VolumeBytes > 0 {
		version = VolumeVersion
	}
	if opts.Logical {
		version = LogicalVersion
	}
	if opts.Delta != nil {
		version, opts.Command = DeltaVersion, ""
		w.opts.Command = ""
	}
	if opts.format != "" {
		version = opts.format
	}
	if opts.VolumeSink != nil && opts.VolumeBytes <= 0 {
		w.Abort()
		return nil, errors.New("create bundle: a volume sink needs a volume size (Options.VolumeBytes)")
	}
	w.manifest = spec.Manifest{
		Format:      spec.FormatName,
		Version:     version,
		Tool:        opts.Tool,
		CreatedAt:   opts.Now().UTC(),
		Sources:     []spec.Source{},
		Datasets:    []spec.Dataset{},
		Compression: opts.Compression.record(),
		Delta:       opts.Delta,
	}
	if opts.VolumeBytes > 0 {
		removeStaleVolumes(path)
		if w.vols, err = newVolumeWriter(path, version, toDOSTime(w.manifest.CreatedAt), opts.VolumeBytes); err != nil {
			w.Abort()
			return nil, err
		}
		w.vols.sink = opts.VolumeSink
	}
	if opts.Command != "" && !opts.Restart {
		resumed, err := w.resume()
		if err != nil {
			f.Close()
			return nil, err
		}
		if resumed {
			return w, nil
		}
	}
	if err := f.Truncate(0); err != nil {
		w.Abort()
		return nil, fmt.Errorf("create bundle: %w", err)
	}
	w.zw = newZipWriter(f, toDOSTime(w.manifest.CreatedAt))
	if err := w.writeSmall(MarkerEntry, []byte(markerContent(version))); err != nil {
		w.Abort()
		return nil, err
	}
	if keyBody != nil {
		if err := w.writeSmall(KeyEntry, keyBody); err != nil {
			w.Abort()
			return nil, err
		}
	}
	if opts.Command != "" {
		w.header = journalHeader{Journal: journalVersion, Command: opts.Command, CreatedAt: w.manifest.CreatedAt, Format: version}
		if w.journal, err = createJournal(JournalPath(path), w.header); err != nil {
			w.Abort()
			return nil, err
		}
	} else {
		// A journal of a killed journaled run would name bytes this
		// run overwrites.
		os.Remove(JournalPath(path))
	}
	return w, nil
}

// resume takes up the partial file a killed run of the same command left,
// if its journal is readable: its datasets become Candidates. It refuses
// a partial file of another command, leaving it in place.
func (w *Writer) resume() (bool, error) {
	h, ds, err := readJournal(JournalPath(w.path))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		w.resumeNotes = append(w.resumeNotes, fmt.Sprintf("the export journal is unusable (%v): starting over", err))
		return false, nil
	}
	if fi, err := w.f.Stat(); err == nil && fi.Size() == 0 {
		// A journal without its partial file: an export killed after it
		// renamed the finished bundle into place, before it removed the
		// journal (or a partial file someone deleted). It names no byte
		// of anything: remove it, whatever command wrote it.
		os.Remove(JournalPath(w.path))
		w.resumeNotes = append(w.resumeNotes, "removed a journal left without its partial file (an export killed after it finished, or a deleted partial file): starting over")
		return false, nil
	}
	if h.Command != w.opts.Command {
		return false, &CommandMismatchError{Path: w.path, Had: h.Command, Want: w.opts.Command}
	}
	if h.Format != w.manifest.Version {
		w.resumeNotes = append(w.resumeNotes, fmt.Sprintf("the partial file is of bundle format %s, this export writes %s: starting over", h.Format, w.manifest.Version))
		return false, nil
	}
	t := toDOSTime(h.CreatedAt)
	ok, notes, err := checkCandidates(w.f, t, w.manifest.Version, ds)
	if err != nil {
		return false, fmt.Errorf("resume export: read %s: %w", w.tmp, err)
	}
	w.resumeNotes = append(w.resumeNotes, notes...)
	w.header = *h
	w.header.Journal = journalVersion // the rewritten journal may hold part lines
	w.manifest.CreatedAt = h.CreatedAt
	w.zw = &zipWriter{t: t}
	w.resuming = true
	w.pending = ok
	return true, nil
}

// AddSource records a source descriptor. Callers must have removed
// credentials; AddSource refuses a URL with user info as a last guard.
func (w *Writer) AddSource(s spec.Source) error {
	if containsCredentials(s.URL) {
		return fmt.Errorf("source %s: URL still holds credentials; redact it (exporter.Redact) before writing", s.ID)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if s.ID == "" {
		return errors.New("source has an empty id")
	}
	for _, o := range w.manifest.Sources {
		if o.ID == s.ID {
			return fmt.Errorf("source id %q added twice", s.ID)
		}
	}
	w.manifest.Sources = append(w.manifest.Sources, s)
	return nil
}

// AddRelations records relation edges.
func (w *Writer) AddRelations(rs ...spec.Relation) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.manifest.Relations = append(w.manifest.Relations, rs...)
}

// AddObjects records schema objects, in the order a target creates them.
func (w *Writer) AddObjects(os ...spec.Object) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.manifest.Objects = append(w.manifest.Objects, os...)
}

// AddUncarried records what a source holds that the bundle does not carry.
func (w *Writer) AddUncarried(us ...spec.Uncarried) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.manifest.Uncarried = append(w.manifest.Uncarried, us...)
}

// AddNote records a free-text note in the manifest (e.g. a weaker snapshot).
func (w *Writer) AddNote(n string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.manifest.Notes = append(w.manifest.Notes, n)
}

// CreateDataset starts a dataset. ds carries name, source, kind, key and DDL;
// Columns, Rows, Parts and Digest are filled in by the writer.
func (w *Writer) CreateDataset(ds spec.Dataset, schema *arrow.Schema) (*DatasetWriter, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return nil, errors.New("bundle writer is closed")
	}
	if err := w.keepLocked(nil); err != nil {
		return nil, err
	}
	if ds.Name == "" {
		return nil, errors.New("dataset has an empty name")
	}
	if c, ok := w.continued[ds.Name]; ok {
		return w.continueLocked(c, ds, schema)
	}
	for _, o := range w.manifest.Datasets {
		if o.Name == ds.Name {
			return nil, fmt.Errorf("dataset %q written twice", ds.Name)
		}
	}
	if !w.hasSourceLocked(ds.Source) {
		return nil, fmt.Errorf("dataset %q names source %q, which was not added (call AddSource first)", ds.Name, ds.Source)
	}
	if len(w.manifest.Datasets) >= maxDatasets {
		return nil, fmt.Errorf("dataset %q: a bundle holds at most %d datasets", ds.Name, maxDatasets)
	}
	if err := checkSchema(schema); err != nil {
		return nil, fmt.Errorf("dataset %q: %w", ds.Name, err)
	}
	keys, err := keyColumns(schema, ds.PrimaryKey)
	if err != nil {
		return nil, fmt.Errorf("dataset %q: %w", ds.Name, err)
	}
	ds.Columns = ColumnsOf(schema)
	ds.Parts = []spec.Part{}
	ds.Rows = 0
	ds.Digest = spec.Digest{}
	idx := len(w.manifest.Datasets)
	w.manifest.Datasets = append(w.manifest.Datasets, ds)
	w.open++
	return &DatasetWriter{w: w, idx: idx, name: ds.Name, schema: schema, keys: keys}, nil
}

func (w *Writer) hasSourceLocked(id string) bool {
	for _, s := range w.manifest.Sources {
		if s.ID == id {
			return true
		}
	}
	return false
}

// Close finalises the bundle: manifest, checksum entry, central directory,
// fsync and rename. Every dataset must have been closed.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return errors.New("bundle writer already closed")
	}
	if err := w.keepLocked(nil); err != nil {
		w.done = true
		w.abortLocked()
		return err
	}
	w.done = true
	if w.err != nil {
		w.abortLocked()
		return w.err
	}
	if w.open != 0 {
		w.abortLocked()
		return fmt.Errorf("bundle closed with %d dataset(s) still open", w.open)
	}
	if err := checkUTF8("manifest", w.manifest); err != nil {
		w.abortLocked()
		return err
	}
	if err := checkMembers(w.manifest.Version, &w.manifest); err != nil {
		w.abortLocked()
		return fmt.Errorf("%w: create the bundle with Options.Logical", err)
	}
	if err := checkDelta(w.manifest.Version, &w.manifest); err != nil {
		w.abortLocked()
		return err
	}
	if w.vols != nil {
		set, err := w.vols.close()
		if err != nil {
			w.abortLocked()
			return err
		}
		w.manifest.Volumes = set
	}
	body, err := MarshalManifest(&w.manifest)
	if err != nil {
		w.abortLocked()
		return err
	}
	if w.key != nil {
		if body, err = encryptBytes(body, w.key); err != nil {
			w.abortLocked()
			return fmt.Errorf("encrypt the manifest: %w", err)
		}
	}
	sum := sha256.Sum256(body)
	w.id = hex.EncodeToString(sum[:])
	if err := w.writeSmallLocked(ManifestEntry, body); err != nil {
		w.abortLocked()
		return err
	}
	if err := w.writeSmallLocked(ManifestSumEntry, []byte(hex.EncodeToString(sum[:])+"\n")); err != nil {
		w.abortLocked()
		return err
	}
	if err := w.zw.close(); err != nil {
		w.abortLocked()
		return fmt.Errorf("finish bundle: %w", err)
	}
	if err := w.f.Sync(); err != nil {
		w.abortLocked()
		return fmt.Errorf("sync bundle: %w", err)
	}
	if w.vols != nil {
		if err := w.vols.publish(); err != nil {
			w.abortLocked()
			return err
		}
	}
	if w.vols != nil && w.vols.sink != nil {
		return w.putIndexLocked()
	}
	// Rename before closing: the lock goes with the file, and another
	// export of this path must not take "<path>.partial" in between.
	if err := os.Rename(w.tmp, w.path); err != nil {
		w.abortLocked()
		return fmt.Errorf("rename bundle into place: %w", err)
	}
	f := w.f
	w.f = nil
	if w.vols != nil {
		w.vols.written = nil // finished: a later Abort must leave them
	}
	if err := f.Close(); err != nil {
		os.Remove(w.path)
		return fmt.Errorf("close bundle: %w", err)
	}
	if w.journal != nil {
		w.journal.close()
		os.Remove(JournalPath(w.path))
	}
	return nil
}

// Manifest returns the manifest being built; complete after Close.
func (w *Writer) Manifest() *spec.Manifest { return &w.manifest }

// VolumeNotes says what the volume split did that a user should know
// (a part larger than the volume size); valid after Close.
func (w *Writer) VolumeNotes() []string {
	if w.vols == nil {
		return nil
	}
	return w.vols.notes
}

// Encrypted reports whether the bundle is encrypted (Options.EncryptTo).
func (w *Writer) Encrypted() bool { return w.key != nil }

// ID returns the bundle id (SHA-256 of the manifest bytes); valid after a
// successful Close.
func (w *Writer) ID() string { return w.id }

// Abort removes the partial file and the staging files. Safe to call after a
// failed Close, and more than once.
func (w *Writer) Abort() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.done = true
	w.abortLocked()
}

func (w *Writer) abortLocked() {
	w.unstageAll()
	if w.vols != nil {
		w.vols.abort()
	}
	if w.f != nil {
		// Remove before closing, while the lock is held.
		if w.journal != nil || w.resuming {
			os.Remove(JournalPath(w.path))
		}
		os.Remove(w.tmp)
		w.f.Close()
		w.f = nil
	}
	w.journal.close()
}

// Suspend ends a journaled export that failed without removing what a
// run of the same command can resume: the partial file and its journal
// stay, the staging files go. With nothing to resume (no dataset
// finished, or no journal) it is Abort. It reports whether it kept them.
func (w *Writer) Suspend() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.done = true
	if w.resuming && w.f != nil {
		// It failed before Keep: the killed run's files are as it left
		// them, still resumable.
		w.f.Close()
		w.f = nil
		return true
	}
	if w.journal == nil || w.journaled == 0 || w.f == nil {
		w.abortLocked()
		return false
	}
	w.unstageAll()
	// What the journal lists is synced already; the rest is overwritten
	// by the next run.
	w.f.Close()
	w.f = nil
	w.journal.close()
	return true
}

func (w *Writer) fail(err error) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = err
	}
	return err
}

func (w *Writer) writeSmall(name string, body []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.writeSmallLocked(name, body)
}

func (w *Writer) writeSmallLocked(name string, body []byte) error {
	return w.zw.add(name, uint64(len(body)), crc32.ChecksumIEEE(body), bytes.NewReader(body))
}

// DatasetWriter writes the record batches of one dataset, cutting parts at
// Options.PartBytes. It is not safe for concurrent use; distinct datasets
// may be written from distinct goroutines.
type DatasetWriter struct {
	w      *Writer
	idx    int
	name   string
	schema *arrow.Schema
	keys   []int

	digest  Digest
	parts   []spec.Part
	entries []journalEntry // where the parts lie, for the journal
	check   string
	// partCheck is set by JournalParts: each finished part then gets a
	// journal line with this source check. partDef, of a continued
	// dataset, is the definition its kept part lines record: its later
	// ones record the same, so that they read as one dataset's.
	partCheck string
	partDef   *spec.Dataset
	rows      int64
	cur       *partFile
	closed    bool
	// deletedOf is set on the writer of a dataset's deleted keys
	// (CreateDeleted): its parts are that dataset's Delta.Deleted.
	deletedOf *DatasetWriter
}

type partFile struct {
	stage  *partStage
	sha    hash.Hash
	crc    hash.Hash32
	n      int64
	ipc    *ipc.FileWriter
	zstd   *ipcCompressor // between ipc and the file
	enc    io.WriteCloser // between zstd and the file, if encrypted
	rows   int64
	raw    int64
	digest Digest
	first  []string
	last   []string
}

func (p *partFile) Write(b []byte) (int, error) {
	n, err := p.stage.Write(b)
	p.sha.Write(b[:n])
	p.crc.Write(b[:n])
	p.n += int64(n)
	return n, err
}

// Write appends rec. The record's schema must equal the dataset's.
func (d *DatasetWriter) Write(rec arrow.RecordBatch) error {
	if d.closed {
		return fmt.Errorf("dataset %q: write after close", d.name)
	}
	if rec.NumRows() == 0 {
		return nil
	}
	if !rec.Schema().Equal(d.schema) {
		return d.w.fail(fmt.Errorf("dataset %q: record schema %s differs from dataset schema %s", d.name, rec.Schema(), d.schema))
	}
	if n := RecordBytes(rec); n > MaxBatchBytes {
		return d.w.fail(fmt.Errorf("dataset %q: a record batch of %d bytes is over the %d a bundle allows (SPEC.md §4); emit smaller batches (about %d bytes)", d.name, n, MaxBatchBytes, DefaultBatchBytes))
	}
	if d.cur == nil {
		if err := d.startPart(); err != nil {
			return d.w.fail(err)
		}
	}
	p := d.cur
	// Digest the rows while the batch is encoded and compressed: both only
	// read rec, and on several cores this hides most of the digest's cost.
	digested := make(chan struct{})
	go func() {
		p.digest.AddRecord(rec)
		close(digested)
	}()
	err := p.ipc.Write(rec)
	<-digested
	if err != nil {
		return d.w.fail(fmt.Errorf("dataset %q: write part: %w", d.name, err))
	}
	if len(d.keys) > 0 {
		if p.rows == 0 {
			p.first = keyStrings(rec, d.keys, 0)
		}
		p.last = keyStrings(rec, d.keys, int(rec.NumRows())-1)
	}
	p.rows += rec.NumRows()
	p.raw += RecordBytes(rec)
	if p.raw >= d.w.opts.PartBytes {
		return d.finishPart()
	}
	return nil
}

// Close finishes the last part and records the dataset in the manifest.
func (d *DatasetWriter) Close() error {
	if d.closed {
		return nil
	}
	d.closed = true
	if d.cur != nil {
		if err := d.finishPart(); err != nil {
			return err
		}
	}
	d.w.mu.Lock()
	defer d.w.mu.Unlock()
	ds := &d.w.manifest.Datasets[d.idx]
	d.w.open--
	if d.deletedOf != nil {
		if ds.Delta == nil {
			ds.Delta = &spec.DatasetDelta{}
		}
		ds.Delta.Deleted = &spec.DeletedKeys{Columns: ColumnsOf(d.schema), Rows: d.rows, Parts: d.parts, Digest: d.digest.Spec()}
		return nil
	}
	ds.Parts = d.parts
	ds.Rows = d.rows
	ds.Digest = d.digest.Spec()
	if d.w.journal != nil && d.w.err == nil {
		if err := d.w.journalLocked(d); err != nil {
			d.w.err = fmt.Errorf("dataset %q: %w", d.name, err)
			return d.w.err
		}
	}
	return nil
}

// CreateDeleted starts the deleted keys of d's dataset in a delta bundle
// (SPEC.md §14): rows of schema, the dataset's key columns, one per entity
// the delta removes or rewrites. Close it before d.
func (d *DatasetWriter) CreateDeleted(schema *arrow.Schema) (*DatasetWriter, error) {
	w := d.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.opts.Delta == nil {
		return nil, fmt.Errorf("dataset %q: deleted keys belong in a delta bundle (Options.Delta)", d.name)
	}
	if err := checkSchema(schema); err != nil {
		return nil, fmt.Errorf("dataset %q deleted keys: %w", d.name, err)
	}
	names := make([]string, schema.NumFields())
	for i, f := range schema.Fields() {
		names[i] = f.Name
	}
	keys, err := keyColumns(schema, names)
	if err != nil {
		return nil, fmt.Errorf("dataset %q deleted keys: %w", d.name, err)
	}
	w.open++
	return &DatasetWriter{w: w, idx: d.idx, name: d.name + "#deleted", schema: schema, keys: keys, deletedOf: d}, nil
}

// SetDelta records what a delta bundle does to the dataset; Deleted is
// filled in by the CreateDeleted writer's Close.
func (d *DatasetWriter) SetDelta(dd spec.DatasetDelta) {
	d.w.mu.Lock()
	defer d.w.mu.Unlock()
	ds := &d.w.manifest.Datasets[d.idx]
	if ds.Delta != nil {
		dd.Deleted = ds.Delta.Deleted
	}
	ds.Delta = &dd
}

// SetResumeCheck records what the exporter read of the dataset's source
// state (e.g. a row count and largest key), for a resumed run to decide
// whether the dataset still holds (Candidate.Check).
func (d *DatasetWriter) SetResumeCheck(check string) { d.check = check }

// journalLocked makes the dataset's parts durable, then lists it in the
// journal: a listed dataset's bytes survive a kill or power loss.
func (w *Writer) journalLocked(d *DatasetWriter) error {
	if err := w.zw.bw.Flush(); err != nil {
		return fmt.Errorf("write bundle: %w", err)
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("sync bundle: %w", err)
	}
	ds := w.manifest.Datasets[d.idx]
	if err := w.journal.append(journalDataset{Dataset: ds, Check: d.check, Entries: d.entries}); err != nil {
		return err
	}
	w.journaled++
	return nil
}

// CompressedBytes is the size of the dataset's parts so far, compressed,
// the part being written included (for progress). Like Write, not safe
// for concurrent use.
func (d *DatasetWriter) CompressedBytes() int64 {
	var n int64
	for _, p := range d.parts {
		n += p.Bytes
	}
	if d.cur != nil {
		n += d.cur.n
	}
	return n
}

// SetCounters records exporter counters (skipped, vanished keys, ...) in the
// dataset's manifest entry.
func (d *DatasetWriter) SetCounters(skipped int64, counters map[string]int64) {
	d.w.mu.Lock()
	defer d.w.mu.Unlock()
	ds := &d.w.manifest.Datasets[d.idx]
	ds.Skipped = skipped
	ds.Counters = counters
}

// SetSchemaKeys records the schema keys of tables and collections kept in
// a Redis keyspace (SPEC.md §8.1).
func (d *DatasetWriter) SetSchemaKeys(keys map[string]string) {
	d.w.mu.Lock()
	defer d.w.mu.Unlock()
	d.w.manifest.Datasets[d.idx].SchemaKeys = keys
}

// SetMembers records the member tables of a logical dataset with the rows
// each gave (spec.Member), before Close journals the dataset.
func (d *DatasetWriter) SetMembers(members []spec.Member) {
	d.w.mu.Lock()
	defer d.w.mu.Unlock()
	d.w.manifest.Datasets[d.idx].Members = members
}

func (d *DatasetWriter) startPart() error {
	p := &partFile{stage: &partStage{w: d.w, limit: d.w.opts.MemoryStageBytes}, sha: sha256.New(), crc: crc32.NewIEEE()}
	var out io.Writer = p
	if d.w.key != nil {
		enc, err := age.Encrypt(p, d.w.key)
		if err != nil {
			p.stage.release()
			return fmt.Errorf("dataset %q: start part: %w", d.name, err)
		}
		p.enc, out = enc, enc
	}
	p.zstd = newIPCCompressor(out, d.w.opts.Compression)
	var err error
	p.ipc, err = ipc.NewFileWriter(p.zstd, ipc.WithSchema(d.schema))
	if err != nil {
		p.stage.release()
		return fmt.Errorf("dataset %q: start part: %w", d.name, err)
	}
	d.cur = p
	return nil
}

func (d *DatasetWriter) finishPart() error {
	p := d.cur
	d.cur = nil
	defer p.stage.release()
	if err := p.ipc.Close(); err != nil {
		return d.w.fail(fmt.Errorf("dataset %q: finish part: %w", d.name, err))
	}
	if err := p.zstd.Close(); err != nil {
		return d.w.fail(fmt.Errorf("dataset %q: finish part: %w", d.name, err))
	}
	if p.enc != nil {
		if err := p.enc.Close(); err != nil {
			return d.w.fail(fmt.Errorf("dataset %q: finish part: %w", d.name, err))
		}
	}
	staged, err := p.stage.reader()
	if err != nil {
		return d.w.fail(err)
	}
	if len(d.parts) >= maxParts {
		return d.w.fail(fmt.Errorf("dataset %q: a dataset holds at most %d parts; raise Options.PartBytes", d.name, maxParts))
	}
	name := PartPath(d.idx, len(d.parts))
	if d.deletedOf != nil {
		name = DeletedPartPath(d.idx, len(d.parts))
	}
	d.w.mu.Lock()
	defer d.w.mu.Unlock()
	if d.w.err != nil {
		return d.w.err
	}
	if d.w.done {
		return fmt.Errorf("dataset %q: the bundle writer was closed or aborted", d.name)
	}
	if d.w.vols != nil {
		if err := d.w.vols.add(name, uint64(p.n), p.crc.Sum32(), staged); err != nil {
			d.w.err = fmt.Errorf("dataset %q: copy part into a volume: %w", d.name, err)
			return d.w.err
		}
	} else {
		if err := d.w.zw.add(name, uint64(p.n), p.crc.Sum32(), staged); err != nil {
			d.w.err = fmt.Errorf("dataset %q: copy part into bundle: %w", d.name, err)
			return d.w.err
		}
		e := d.w.zw.entries[len(d.w.zw.entries)-1]
		d.entries = append(d.entries, journalEntry{Name: e.name, Offset: e.offset, Size: e.size, CRC: e.crc})
	}
	part := spec.Part{Path: name, Rows: p.rows, Bytes: p.n, SHA256: hex.EncodeToString(p.sha.Sum(nil))}
	if p.first != nil {
		part.KeyRange = &spec.KeyRange{First: p.first, Last: p.last}
	}
	d.parts = append(d.parts, part)
	d.rows += p.rows
	d.digest.Merge(&p.digest)
	// The last part is journaled with the dataset's line (Close).
	if d.partCheck != "" && !d.closed && d.w.journal != nil && d.w.vols == nil && d.deletedOf == nil && part.KeyRange != nil {
		if err := d.w.journalPartLocked(d, part, p.digest.Spec()); err != nil {
			d.w.err = fmt.Errorf("dataset %q: %w", d.name, err)
			return d.w.err
		}
	}
	return nil
}

// RecordBytes is the uncompressed size of rec's buffers, the measure parts
// and batches are cut by.
func RecordBytes(rec arrow.RecordBatch) int64 {
	var n int64
	for _, c := range rec.Columns() {
		n += arrayBytes(c.Data())
	}
	return n
}

func arrayBytes(d arrow.ArrayData) int64 {
	var n int64
	for _, b := range d.Buffers() {
		if b != nil {
			n += int64(b.Len())
		}
	}
	for _, c := range d.Children() {
		n += arrayBytes(c)
	}
	return n
}
