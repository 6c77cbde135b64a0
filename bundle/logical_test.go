package bundle

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/spec"
)

// A bundle with a logical dataset is format 3.0 (LogicalVersion), which
// this code reads and format-2 readers refuse by its major; a writer that
// was not told (Options.Logical) refuses to finish one as format 2, whose
// readers would load the dataset as one table.
func TestLogicalDatasetsAreFormat3(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}}, nil)
	write := func(logical bool) (string, error) {
		path := filepath.Join(t.TempDir(), "b.imb")
		w, err := Create(path, Options{Logical: logical})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.AddSource(spec.Source{ID: "s0", Engine: "mysql", URL: "mysql://db/wf"}); err != nil {
			t.Fatal(err)
		}
		dw, err := w.CreateDataset(spec.Dataset{Name: "wf.t_messages", Kind: spec.KindTable, Source: "s0", Namespace: "wf", Object: "t_messages"}, schema)
		if err != nil {
			t.Fatal(err)
		}
		dw.SetMembers([]spec.Member{{Object: "t_messages_0", DDL: "CREATE TABLE t_messages_0 (id BIGINT)"}, {Object: "t_messages_1", DDL: "CREATE TABLE t_messages_1 (id BIGINT)"}})
		if err := dw.Close(); err != nil {
			t.Fatal(err)
		}
		return path, w.Close()
	}
	path, err := write(true)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if v := r.Manifest().Version; v != LogicalVersion {
		t.Errorf("version %s, want %s", v, LogicalVersion)
	}
	if _, err := write(false); err == nil || !strings.Contains(err.Error(), "which format "+spec.FormatVersion+" does not have") {
		t.Errorf("a format-2 writer finished a logical dataset: %v", err)
	}
}
