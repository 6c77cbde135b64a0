package report

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// CheckPaths refuses a report file whose extension names no format.
func CheckPaths(paths []string) error {
	for _, p := range paths {
		if _, err := formatOf(p); err != nil {
			return err
		}
	}
	return nil
}

func formatOf(path string) (func(io.Writer, *Report) error, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		return WriteJSON, nil
	case ".html", ".htm":
		return WriteHTML, nil
	}
	return nil, fmt.Errorf("%s: want a .html or .json file (the format is the extension's)", path)
}

// WriteJSON writes r as one indented JSON document.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteFiles writes r to each path in the format of its extension. Each
// file appears under its name only when complete (written beside it, then
// renamed): a reader never sees half a report.
func WriteFiles(r *Report, paths []string) error {
	for _, p := range paths {
		write, err := formatOf(p)
		if err != nil {
			return err
		}
		tmp := p + ".partial"
		f, err := os.Create(tmp)
		if err != nil {
			return fmt.Errorf("report: %w", err)
		}
		err = write(f, r)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp, p)
		}
		if err != nil {
			os.Remove(tmp)
			return fmt.Errorf("report %s: %w", p, err)
		}
	}
	return nil
}

// WriteFiles is WriteFiles(r, paths); nil writes nothing.
func (r *Report) WriteFiles(paths []string) error {
	if r == nil {
		return nil
	}
	return WriteFiles(r, paths)
}
