package mongo

import (
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/imbundle/imbundle/importer"
)

// Unites: this target loads a union (several datasets into one collection,
// importer.Uniter): their parts' resume markers name the dataset (partOf),
// mode fail checks and mode replace drops the collection once, and Finish
// builds its indexes once.
func (t *target) Unites() bool { return true }

// collection is the item's target collection, one handle per collection,
// so that the items of a union share theirs.
func (t *target) collection(it *importer.Item) *mongo.Collection {
	k := [2]string{it.Namespace, it.Object}
	if c, ok := t.colls[k]; ok {
		return c
	}
	if t.colls == nil {
		t.colls = map[[2]string]*mongo.Collection{}
	}
	c := t.client.Database(it.Namespace).Collection(it.Object)
	t.colls[k] = c
	return c
}
