package mongo

import "github.com/imbundle/imbundle/importer"

// The engine's name, and its --param keys (the Param* constants of mongo.go).
func init() {
	importer.Declare(importer.Engine{Name: "mongodb", Records: "documents", Schemes: []string{"mongodb", "mongodb+srv"}, Params: []importer.Param{
		{Key: ParamTTLIndexes, Values: []string{"last", "skip"}, Help: "last (default: TTL indexes after all others) or skip (left out, listed in the log)"},
		{Key: ParamInsertBatch, Help: "documents per insert command (default 1000)"},
		{Key: ParamInsertWorkers, Help: "insert commands in flight on the target (default 2)"},
		{Key: ParamStateDB, Help: "database on the target server that holds the resume state while an import runs (default imbundle; dropped when empty)"},
	}})
}
