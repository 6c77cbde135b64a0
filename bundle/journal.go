package bundle

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/imbundle/imbundle/spec"
)

// An export that journals (Options.Command set) keeps, beside
// "<path>.partial", the journal "<path>.partial-journal": JSON lines, a
// header naming the export, then one line per finished dataset with its
// manifest entry and where its parts lie in the partial file, and one line
// per finished part of a dataset not yet finished (journalpart.go; SPEC.md
// §2.5). A line is written only once its parts are synced, so every line
// names bytes that survive a SIGKILL or a power loss. A run of the same
// command finds the journal, checks each listed part against the partial
// file and keeps what checks out.

// JournalPath is the journal of the bundle being written at path.
func JournalPath(path string) string { return path + ".partial-journal" }

// journalHeader is the journal's first line.
type journalHeader struct {
	Journal   int       `json:"imbundle_export_journal"` // journalVersion
	Command   string    `json:"command"`
	CreatedAt time.Time `json:"created_at"` // the bundle's, so resumed headers share one time
	Format    string    `json:"format_version"`
}

// journalVersion is the version this imbundle writes: 2 added part lines.
// It reads 1 too (a journal without part lines).
const journalVersion = 2

// journalDataset is one finished dataset: its manifest entry, the state
// of its source the exporter recorded (Check), and its entries.
type journalDataset struct {
	Dataset spec.Dataset   `json:"dataset"`
	Check   string         `json:"check,omitempty"`
	Entries []journalEntry `json:"entries"`

	// partial: the dataset was not finished; Dataset holds its
	// finished parts (and their rows and digest) and partDigests each
	// part's digest, from its part lines (journalpart.go).
	partial     bool
	partDigests []spec.Digest
}

type journalEntry struct {
	Name   string `json:"name"`
	Offset uint64 `json:"offset"`
	Size   uint64 `json:"size"`
	CRC    uint32 `json:"crc"`
}

func (e journalEntry) zip() zipEntry {
	return zipEntry{name: e.Name, offset: e.Offset, size: e.Size, crc: e.CRC}
}

// CommandMismatchError is Create's refusal of a partial bundle that another
// export command started.
type CommandMismatchError struct {
	Path      string
	Had, Want string
}

func (e *CommandMismatchError) Error() string {
	return fmt.Sprintf("%s was started by a different export (it was: %s; this one is: %s): a resumed export must be the same command", PartialPath(e.Path), e.Had, e.Want)
}

// readJournal reads the journal at path. A last line cut short (the
// process was killed while writing it) is ignored; any other bad line
// makes the journal unusable.
func readJournal(path string) (*journalHeader, []journalDataset, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	lines := bytes.Split(raw, []byte("\n"))
	// The last element is what follows the last newline: empty, or a
	// line the kill cut short.
	lines = lines[:len(lines)-1]
	if len(lines) == 0 {
		return nil, nil, errors.New("no header")
	}
	var h journalHeader
	if err := decodeJournalLine(lines[0], &h); err != nil {
		return nil, nil, fmt.Errorf("%s:1: header: %w", path, err)
	}
	if h.Journal != journalVersion && h.Journal != 1 {
		return nil, nil, fmt.Errorf("%s:1: journal version %d, this imbundle writes %d", path, h.Journal, journalVersion)
	}
	var ds []journalDataset
	parts := newPartialDatasets()
	for i, l := range lines[1:] {
		if isPartLine(l) {
			var p journalPart
			if err := decodeJournalLine(l, &p); err != nil {
				return nil, nil, fmt.Errorf("%s:%d: %w", path, i+2, err)
			}
			if err := parts.add(p); err != nil {
				return nil, nil, fmt.Errorf("%s:%d: %w", path, i+2, err)
			}
			continue
		}
		var d journalDataset
		if err := decodeJournalLine(l, &d); err != nil {
			return nil, nil, fmt.Errorf("%s:%d: %w", path, i+2, err)
		}
		if len(d.Entries) != len(d.Dataset.Parts) {
			return nil, nil, fmt.Errorf("%s:%d: dataset %q lists %d parts and %d entries", path, i+2, d.Dataset.Name, len(d.Dataset.Parts), len(d.Entries))
		}
		parts.finished(d.Dataset.Name) // its line supersedes its part lines
		ds = append(ds, d)
	}
	return &h, append(ds, parts.datasets()...), nil
}

func decodeJournalLine(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// journal appends lines to the journal file. Only the header and a
// rewritten journal are synced: a dataset's line is written after its
// parts were synced, so a power loss can cost the line, never leave a
// line whose parts are lost; a line cut short is ignored (readJournal).
type journal struct {
	f *os.File
}

func createJournal(path string, h journalHeader) (*journal, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create export journal: %w", err)
	}
	j := &journal{f: f}
	if err := j.append(h); err == nil {
		err = j.sync()
	}
	if err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	return j, nil
}

func (j *journal) append(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("export journal: %w", err)
	}
	bw := bufio.NewWriter(j.f)
	bw.Write(b)
	bw.WriteByte('\n')
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write export journal: %w", err)
	}
	return nil
}

func (j *journal) sync() error {
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("sync export journal: %w", err)
	}
	return nil
}

func (j *journal) close() {
	if j != nil && j.f != nil {
		j.f.Close()
		j.f = nil
	}
}
