package mysql

import "github.com/imbundle/imbundle/importer"

// The engine's name, and its --param keys (read in mysql.go, indexes.go, state.go and triggers.go).
func init() {
	importer.Declare(importer.Engine{Name: "mysql", Records: "rows", Schemes: []string{"mysql", "mariadb"}, Params: []importer.Param{
		{Key: "load", Values: []string{"auto", "loaddata", "insert"}, Help: "auto (default: LOAD DATA LOCAL, INSERT if the server refuses it), loaddata or insert"},
		{Key: "defer-indexes", Values: []string{"auto", "true", "false"}, Help: "build secondary indexes after the data: auto (default: only for tables of at least 200,000 rows), true (every table) or false (none)"},
		{Key: "definers", Values: []string{"keep", "strip"}, Help: "objects' DEFINER: keep (default; a DEFINER missing on the target is an error before writing) or strip (the importing user becomes the definer)"},
		{Key: "state-schema", Help: "schema on the target server that holds the resume state while an import runs (default imbundle; dropped when empty)"},
		{Key: "triggers", Values: []string{"refuse", "suspend"}, Help: "target tables with triggers: refuse (default: stop before writing and name them) or suspend (drop for the load, recreate after)"},
	}})
}
