package bundle

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
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
// truncates it and removes staging files a killed run left.
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
	if err := f.Truncate(0); err != nil {
		return fail(err)
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
