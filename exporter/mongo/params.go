package mongo

import "github.com/imbundle/imbundle/exporter"

// The engine's name in manifests, and its --param keys (read in read.go).
func init() {
	exporter.Declare(exporter.Engine{Name: "mongodb", Records: "documents", Schemes: []string{"mongodb", "mongodb+srv"}, Params: []exporter.Param{
		{Key: "cursor-batch", Help: "documents per cursor batch (default 1000)"},
		{Key: "sort", Values: []string{"natural", "_id"}, Help: "read order: natural (default) or _id (served by the _id index)"},
	}})
}
