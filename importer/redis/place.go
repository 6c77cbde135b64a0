package redis

import "github.com/imbundle/imbundle/importer"

// Place sends the datasets --db-map does not place to the database the
// URL names (see placeInURLDB).
func (t *Target) Place(items []*importer.Item) error { return t.placeInURLDB(items) }
