package bundle

import (
	"fmt"
	"regexp"

	"github.com/imbundle/imbundle/spec"
)

var hex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// checkManifest cross-checks the manifest with the container (SPEC.md §3,
// §5): every part present under its canonical name with its declared size,
// parts of a dataset in order, row counts adding up, no entry unaccounted
// for. It reads no part data.
func (r *Reader) checkManifest() error {
	m := r.manifest
	sources := map[string]bool{}
	for i, s := range m.Sources {
		if s.ID == "" || sources[s.ID] {
			return fmt.Errorf("manifest: source #%d has an empty or repeated id %q", i, s.ID)
		}
		sources[s.ID] = true
		if containsCredentials(s.URL) {
			return fmt.Errorf("manifest: source %s URL holds credentials; a bundle must not (SPEC.md §10)", s.ID)
		}
	}
	position := map[string]int{}
	for i, e := range r.order {
		position[e.name] = i
	}
	claimed := map[string]bool{MarkerEntry: true, ManifestEntry: true, ManifestSumEntry: true, KeyEntry: r.key != nil}
	names := map[string]bool{}
	for di := range m.Datasets {
		ds := &m.Datasets[di]
		if ds.Name == "" || names[ds.Name] {
			return fmt.Errorf("manifest: dataset #%d has an empty or repeated name %q", di, ds.Name)
		}
		names[ds.Name] = true
		if !sources[ds.Source] {
			return fmt.Errorf("manifest: dataset %q names source %q, which the manifest lacks", ds.Name, ds.Source)
		}
		if err := checkColumnList(ds); err != nil {
			return fmt.Errorf("manifest: dataset %q: %w", ds.Name, err)
		}
		rows, err := r.checkParts(ds, ds.Parts, func(pi int) string { return PartPath(di, pi) }, position, claimed)
		if err != nil {
			return err
		}
		if del := spec.DeletedDataset(ds); del != nil {
			n, err := r.checkParts(del, del.Parts, func(pi int) string { return DeletedPartPath(di, pi) }, position, claimed)
			if err != nil {
				return err
			}
			if n != del.Rows || del.Digest.Rows != del.Rows {
				return fmt.Errorf("dataset %q: deleted-key parts hold %d rows, the manifest says %d (digest %d)", ds.Name, n, del.Rows, del.Digest.Rows)
			}
		}
		if rows != ds.Rows {
			return fmt.Errorf("dataset %q: parts hold %d rows but the dataset says %d", ds.Name, rows, ds.Rows)
		}
		if ds.Digest.Rows != ds.Rows {
			return fmt.Errorf("dataset %q: digest covers %d rows but the dataset says %d", ds.Name, ds.Digest.Rows, ds.Rows)
		}
		if ds.Digest.Algorithm != spec.DigestAlgorithm {
			// A new algorithm needs a new major version (SPEC.md §1), so
			// within a major this reads, another name is a damaged manifest.
			return fmt.Errorf("dataset %q: digest algorithm %q is not %q, the only one format %s defines (SPEC.md §6)", ds.Name, ds.Digest.Algorithm, spec.DigestAlgorithm, m.Version)
		}
		if !hex64.MatchString(ds.Digest.Sum) {
			return fmt.Errorf("dataset %q: digest sum %q is not 64 lowercase hex digits", ds.Name, ds.Digest.Sum)
		}
	}
	for _, e := range r.order {
		if !claimed[e.name] {
			return fmt.Errorf("entry %q is not listed in the manifest", e.name)
		}
	}
	return nil
}

// checkColumnList requires unique, non-empty column names and a primary key
// made of them.
func checkColumnList(ds *spec.Dataset) error {
	cols := map[string]bool{}
	for i, c := range ds.Columns {
		if c.Name == "" || cols[c.Name] {
			return fmt.Errorf("column #%d has an empty or repeated name %q", i, c.Name)
		}
		if c.Type == "" {
			return fmt.Errorf("column %q has no type", c.Name)
		}
		cols[c.Name] = true
	}
	for _, k := range ds.PrimaryKey {
		if !cols[k] {
			return fmt.Errorf("primary key column %q is not a column", k)
		}
	}
	return nil
}

// checkParts checks a dataset's parts (or its deleted keys') against the
// container: canonical names (pathOf), order, sizes, checksums' form, row
// counts; it returns the rows they hold.
func (r *Reader) checkParts(ds *spec.Dataset, parts []spec.Part, pathOf func(int) string, position map[string]int, claimed map[string]bool) (int64, error) {
	var rows int64
	last := -1
	for pi, p := range parts {
		if want := pathOf(pi); p.Path != want {
			return 0, fmt.Errorf("manifest: dataset %q part %d is %q, expected %q", ds.Name, pi, p.Path, want)
		}
		e, ok := r.entries[p.Path]
		if !ok {
			return 0, fmt.Errorf("dataset %q part %d: entry %q is missing from the container", ds.Name, pi, p.Path)
		}
		claimed[p.Path] = true
		if position[p.Path] < last {
			return 0, fmt.Errorf("dataset %q part %d: entry %q comes before the dataset's previous part in the container", ds.Name, pi, p.Path)
		}
		last = position[p.Path]
		if p.Bytes < 0 || uint64(p.Bytes) != e.size {
			return 0, fmt.Errorf("dataset %q part %d: entry %q holds %d bytes but the manifest says %d", ds.Name, pi, p.Path, e.size, p.Bytes)
		}
		if !hex64.MatchString(p.SHA256) {
			return 0, fmt.Errorf("dataset %q part %d: sha256 %q is not 64 lowercase hex digits", ds.Name, pi, p.SHA256)
		}
		if p.Rows < 1 {
			return 0, fmt.Errorf("dataset %q part %d: entry %q declares %d rows; a part holds at least one", ds.Name, pi, p.Path, p.Rows)
		}
		if kr := p.KeyRange; kr != nil && (len(kr.First) != len(ds.PrimaryKey) || len(kr.Last) != len(ds.PrimaryKey)) {
			return 0, fmt.Errorf("dataset %q part %d: key range does not have one value per primary key column", ds.Name, pi)
		}
		if rows+p.Rows < rows {
			return 0, fmt.Errorf("dataset %q: row counts overflow", ds.Name)
		}
		rows += p.Rows
	}
	return rows, nil
}
