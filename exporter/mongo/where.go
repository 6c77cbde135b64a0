package mongo

import (
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/internal/scheme"
	"github.com/imbundle/imbundle/spec"
)

// queryOf is the find filter of ds: its --where, a query document in
// Extended JSON as mongodump --query takes it (SPEC.md §9.4), or every
// document. Describe parses it too, so that a bad one stops the export
// before anything is written.
func queryOf(ds *spec.Dataset) (bson.D, error) {
	if ds.Filter == "" {
		return bson.D{}, nil
	}
	var q bson.D
	if err := bson.UnmarshalExtJSON([]byte(ds.Filter), false, &q); err != nil {
		return nil, scheme.Usagef("--where %s:%s: not a query document in Extended JSON (e.g. '{\"send_time\": {\"$gte\": {\"$date\": \"2025-01-01T00:00:00Z\"}}}'): %v", ds.Name, ds.Filter, err)
	}
	return q, nil
}
