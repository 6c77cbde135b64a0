package bundle

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"sort"

	"github.com/imbundle/imbundle/spec"
)

// Resuming a journaled export (journal.go): Create checks every dataset
// the journal lists against the partial file and offers those that check
// out as Candidates; the exporter decides which of them still hold for its
// source and calls Keep; Keep moves the kept parts together at the start
// of the file (renumbered as datasets 0..k-1, the finished ones first) and
// the export goes on after them. A kept partial dataset (its part lines,
// journalpart.go) is continued: CreateDataset of its name starts with its
// kept parts. Parts of datasets that were not kept are overwritten: a
// bundle has no bytes that belong to no entry.

// Candidate is a dataset a killed export finished, or the finished parts
// of one it was still reading (Partial), offered for keeping.
type Candidate struct {
	// Dataset is its manifest entry; of a partial one, with the parts
	// finished and their rows and digest.
	Dataset spec.Dataset
	Check   string // what the exporter recorded of its source (DatasetWriter.SetResumeCheck, JournalParts)
	Partial bool
}

// Candidates lists the datasets a resumed export may keep, the finished
// ones in the order they finished, then the partial ones; none for a
// fresh export or after Keep.
func (w *Writer) Candidates() []Candidate {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []Candidate
	for _, d := range w.pending {
		out = append(out, Candidate{Dataset: d.Dataset, Check: d.Check, Partial: d.partial})
	}
	return out
}

// ResumeNotes says what Create found of a killed export's partial file
// that it could not use (a damaged journal, parts that fail their check).
func (w *Writer) ResumeNotes() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.resumeNotes...)
}

// Keep keeps the candidates named and drops the others. It must come
// before the first CreateDataset of a resumed export (which otherwise
// keeps none). A kept partial dataset must then be created (CreateDataset
// of its name, the same schema) and is continued after its kept parts;
// Close fails while one was not.
func (w *Writer) Keep(names map[string]bool) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.keepLocked(names)
}

func (w *Writer) keepLocked(names map[string]bool) error {
	if !w.resuming {
		return nil
	}
	w.resuming = false
	// Finished datasets first: the partial ones are completed later, so
	// their indexes (and part names) follow.
	var kept, partial []journalDataset
	for _, d := range w.pending {
		switch {
		case !names[d.Dataset.Name]:
		case d.partial:
			partial = append(partial, d)
		default:
			kept = append(kept, d)
		}
	}
	kept = append(kept, partial...)
	w.pending = nil
	if err := w.compactLocked(kept); err != nil {
		w.err = fmt.Errorf("resume export: %w", err)
		return w.err
	}
	return nil
}

// compactLocked moves the entries of kept to follow the marker entry back
// to back, renamed for their new dataset indexes, truncates the file after
// them, rewrites the journal to match and positions the writer at the end.
func (w *Writer) compactLocked(kept []journalDataset) error {
	marker := markerEntry(w.manifest.Version)
	type move struct {
		from, to zipEntry
		ds, part int
	}
	var moves []move
	for i := range kept {
		for j, e := range kept[i].Entries {
			to := zipEntry{name: PartPath(i, j), size: e.Size, crc: e.CRC}
			moves = append(moves, move{from: e.zip(), to: to, ds: i, part: j})
		}
	}
	// In file order, each entry moves only towards the start, so copying
	// front to back never overwrites bytes still to be read.
	sort.Slice(moves, func(a, b int) bool { return moves[a].from.offset < moves[b].from.offset })
	// The marker is written again: a run killed before it was synced left
	// whatever it left.
	mb := append(marker.localHeader(w.zw.t), markerContent(w.manifest.Version)...)
	if _, err := w.f.WriteAt(mb, 0); err != nil {
		return err
	}
	pos := marker.dataOffset() + marker.size
	entries := []zipEntry{marker}
	buf := make([]byte, 1<<20)
	for i := range moves {
		m := &moves[i]
		m.to.offset = pos
		if m.to.dataOffset() != m.from.dataOffset() {
			if err := copyWithin(w.f, m.to.dataOffset(), m.from.dataOffset(), m.from.size, buf); err != nil {
				return err
			}
		}
		if _, err := w.f.WriteAt(m.to.localHeader(w.zw.t), int64(m.to.offset)); err != nil {
			return err
		}
		pos = m.to.dataOffset() + m.to.size
		entries = append(entries, m.to)
		ds := &kept[m.ds]
		ds.Entries[m.part] = journalEntry{Name: m.to.name, Offset: m.to.offset, Size: m.to.size, CRC: m.to.crc}
		ds.Dataset.Parts[m.part].Path = m.to.name
	}
	if err := w.f.Truncate(int64(pos)); err != nil {
		return err
	}
	if err := w.f.Sync(); err != nil {
		return err
	}
	if _, err := w.f.Seek(int64(pos), io.SeekStart); err != nil {
		return err
	}
	w.zw = newZipWriter(w.f, w.zw.t)
	w.zw.n = pos
	w.zw.entries = entries
	// The journal now describes the compacted file. Until the rename the
	// old one stands, and its moved entries fail their check: a kill here
	// costs those datasets, never a mixed bundle.
	tmp := JournalPath(w.path) + ".tmp"
	j, err := createJournal(tmp, w.header)
	if err != nil {
		return err
	}
	for _, d := range kept {
		var err error
		if d.partial {
			for _, l := range d.partLines() {
				if err = j.append(l); err != nil {
					break
				}
			}
		} else {
			err = j.append(d)
		}
		if err != nil {
			j.close()
			os.Remove(tmp)
			return err
		}
	}
	if err := j.sync(); err != nil {
		j.close()
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, JournalPath(w.path)); err != nil {
		j.close()
		os.Remove(tmp)
		return err
	}
	w.journal = j
	for _, d := range kept {
		w.manifest.Datasets = append(w.manifest.Datasets, d.Dataset)
		w.journaled++
		if d.partial {
			// Open until CreateDataset continues it and Close finishes it.
			w.open++
			if w.continued == nil {
				w.continued = map[string]continuedDataset{}
			}
			w.continued[d.Dataset.Name] = continuedDataset{idx: len(w.manifest.Datasets) - 1, entries: d.Entries}
		}
	}
	return nil
}

// copyWithin copies n bytes of f from src to dst (dst <= src) front to back.
func copyWithin(f *os.File, dst, src, n uint64, buf []byte) error {
	for done := uint64(0); done < n; {
		k := min(uint64(len(buf)), n-done)
		if _, err := f.ReadAt(buf[:k], int64(src+done)); err != nil {
			return fmt.Errorf("move a kept part: %w", err)
		}
		if _, err := f.WriteAt(buf[:k], int64(dst+done)); err != nil {
			return fmt.Errorf("move a kept part: %w", err)
		}
		done += k
	}
	return nil
}

func markerEntry(version string) zipEntry {
	body := []byte(markerContent(version))
	return zipEntry{name: MarkerEntry, offset: 0, size: uint64(len(body)), crc: crc32.ChecksumIEEE(body)}
}

// checkCandidates keeps the journal's datasets whose every entry lies in
// f, after the marker and apart from every other, with the canonical
// local header and data of the SHA-256 the manifest entry records.
func checkCandidates(f *os.File, t dosTime, version string, ds []journalDataset) (ok []journalDataset, notes []string, err error) {
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if len(ds) == 0 {
		return nil, nil, nil // killed before a dataset finished: nothing to check
	}
	size := uint64(st.Size())
	marker := markerEntry(version)
	want := append(marker.localHeader(t), markerContent(version)...)
	got := make([]byte, len(want))
	if _, err := f.ReadAt(got, 0); err != nil || !bytes.Equal(got, want) {
		return nil, []string{"the partial file does not start with a bundle's marker entry: starting over"}, nil
	}
	overlapping := overlappingDatasets(ds)
	names := map[string]bool{}
	for i, d := range ds {
		reason := ""
		if overlapping[i] {
			reason = "its parts overlap another dataset's"
		} else {
			reason = checkCandidate(f, t, size, marker, d, names)
		}
		if reason != "" {
			notes = append(notes, fmt.Sprintf("dataset %q: %s: it is exported again", d.Dataset.Name, reason))
			continue
		}
		names[d.Dataset.Name] = true
		ok = append(ok, d)
	}
	return ok, notes, nil
}

// overlappingDatasets marks the datasets (by index) with an entry that
// shares bytes with another entry: a writer never writes such a journal,
// a damaged one may. One sort, then a sweep.
func overlappingDatasets(ds []journalDataset) map[int]bool {
	type span struct {
		from, to uint64
		ds       int
	}
	var spans []span
	for i, d := range ds {
		for _, e := range d.Entries {
			z := e.zip()
			spans = append(spans, span{z.offset, z.dataOffset() + z.size, i})
		}
	}
	sort.Slice(spans, func(a, b int) bool { return spans[a].from < spans[b].from })
	bad := map[int]bool{}
	var reach span // the span reaching furthest so far
	for i, s := range spans {
		if i > 0 && s.from < reach.to {
			bad[s.ds], bad[reach.ds] = true, true
		}
		if i == 0 || s.to > reach.to {
			reach = s
		}
	}
	return bad
}

func checkCandidate(f *os.File, t dosTime, size uint64, marker zipEntry, d journalDataset, names map[string]bool) string {
	if names[d.Dataset.Name] {
		return "listed twice in the journal"
	}
	var rows int64
	for j, e := range d.Entries {
		z := e.zip()
		p := d.Dataset.Parts[j]
		end := z.dataOffset() + z.size
		if p.Path != z.name || z.offset < marker.dataOffset()+marker.size || end > size || end < z.offset {
			return fmt.Sprintf("part %d is not where the journal says", j)
		}
		want := z.localHeader(t)
		got := make([]byte, len(want))
		if _, err := f.ReadAt(got, int64(z.offset)); err != nil || !bytes.Equal(got, want) {
			return fmt.Sprintf("part %d's header in the partial file is not the journal's", j)
		}
		h := sha256.New()
		if _, err := io.Copy(h, io.NewSectionReader(f, int64(z.dataOffset()), int64(z.size))); err != nil {
			return fmt.Sprintf("part %d: %v", j, err)
		}
		if hex.EncodeToString(h.Sum(nil)) != p.SHA256 {
			return fmt.Sprintf("part %d's bytes in the partial file do not have the journal's SHA-256", j)
		}
		rows += p.Rows
	}
	if rows != d.Dataset.Rows {
		return "its parts' rows do not add up to the dataset's"
	}
	return ""
}
