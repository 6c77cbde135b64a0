package bundle

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// A bundle being written is "<path>.partial", and each part is compressed
// into a staging file before it is copied in (so several datasets can be
// written at once into one sequential container). Staging files are named
// for their bundle: ".<name>.imbundle-part-<hash of the absolute path>-*",
// in the bundle's directory or Options.TempDir. The writer removes them on
// every error and on Abort; after a process was killed outright, the next
// Create of the same path removes what it left, and nothing else.
//
// A part's first Options.MemoryStageBytes are staged in memory and only a
// larger part goes to a staging file: most parts of a schema of many small
// tables are a few kilobytes, and creating, copying and removing a file for
// each took a third of the client's CPU on WildfireChat's 297 tables.

// stagePrefix is the name prefix of path's staging files.
func stagePrefix(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	sum := sha256.Sum256([]byte(abs))
	return "." + filepath.Base(path) + ".imbundle-part-" + hex.EncodeToString(sum[:4]) + "-"
}

// PartialPath is where the bundle at path is written until it is complete.
func PartialPath(path string) string { return path + ".partial" }

// StagedFiles lists the staging files of the bundle at path in dir (the
// bundle's directory if ""): what a killed export left.
func StagedFiles(path, dir string) ([]string, error) {
	if dir == "" {
		dir = filepath.Dir(path)
	}
	prefix := stagePrefix(path)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), prefix) && e.Type().IsRegular() {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out, nil
}

// openPartial creates or reuses "<path>.partial" under an exclusive lock, so
// that two exports to the same path cannot interleave, and only then
// removes staging files a killed run left. Create truncates it, or resumes
// it (resume.go).
func openPartial(path, stageDir string) (*os.File, error) {
	tmp := PartialPath(path)
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create bundle: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("create bundle: another imbundle process is writing %s (it holds %s); wait for it to finish or choose another output", path, tmp)
	}
	// From here the partial file is this writer's: an error removes it.
	fail := func(err error) (*os.File, error) {
		os.Remove(tmp)
		f.Close()
		return nil, fmt.Errorf("create bundle: %w", err)
	}
	// A killed run may have staged beside the bundle or in another
	// staging directory than this run's: look in both.
	stale, err := StagedFiles(path, "")
	if err == nil && filepath.Clean(stageDir) != filepath.Dir(path) {
		var more []string
		more, err = StagedFiles(path, stageDir)
		stale = append(stale, more...)
	}
	if err != nil {
		return fail(fmt.Errorf("staging directory: %w", err))
	}
	for _, s := range stale {
		if err := os.Remove(s); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fail(fmt.Errorf("remove a staging file an earlier run left: %w", err))
		}
	}
	return f, nil
}

// stage creates a staging file for one part and tracks it, so that Abort
// removes it even when its dataset never finishes.
func (w *Writer) stage() (*os.File, error) {
	f, err := os.CreateTemp(w.stageDir, stagePrefix(w.path)+"*")
	if err != nil {
		return nil, err
	}
	w.smu.Lock()
	defer w.smu.Unlock()
	if w.staged == nil {
		w.staged = map[*os.File]bool{}
	}
	w.staged[f] = true
	return f, nil
}

// unstage closes and removes a staging file.
func (w *Writer) unstage(f *os.File) {
	w.smu.Lock()
	defer w.smu.Unlock()
	if w.staged[f] {
		delete(w.staged, f)
		f.Close()
		os.Remove(f.Name())
	}
}

// unstageAll removes every staging file still open.
func (w *Writer) unstageAll() {
	w.smu.Lock()
	defer w.smu.Unlock()
	for f := range w.staged {
		f.Close()
		os.Remove(f.Name())
	}
	w.staged = nil
}

// DefaultMemoryStageBytes is how much of a part is staged in memory before
// it goes to a staging file (Options.MemoryStageBytes 0).
const DefaultMemoryStageBytes = 1 << 20

// partStage holds a compressed part until it is copied into the bundle: in
// memory up to limit bytes, then in a staging file.
type partStage struct {
	w     *Writer
	limit int64
	mem   []byte
	f     *os.File
}

func (s *partStage) Write(b []byte) (int, error) {
	if s.f == nil && int64(len(s.mem)+len(b)) <= s.limit {
		s.mem = append(s.mem, b...)
		return len(b), nil
	}
	if s.f == nil {
		f, err := s.w.stage()
		if err != nil {
			return 0, err
		}
		s.f = f
		if _, err := f.Write(s.mem); err != nil {
			return 0, err
		}
		s.mem = nil
	}
	return s.f.Write(b)
}

// reader reads the staged part from its start.
func (s *partStage) reader() (io.Reader, error) {
	if s.f == nil {
		return bytes.NewReader(s.mem), nil
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return s.f, nil
}

// release drops the staged part and removes its staging file, if any.
func (s *partStage) release() {
	s.mem = nil
	if s.f != nil {
		s.w.unstage(s.f)
		s.f = nil
	}
}
