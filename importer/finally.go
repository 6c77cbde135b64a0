package importer

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// DocumentWriter is a target that writes single documents by _id, as a
// mapping's finally documents are written (convert.FinalDocuments, SPEC.md
// §11.6): the MongoDB target. namespace "" is the target URL's database.
type DocumentWriter interface {
	WriteDocuments(ctx context.Context, namespace, collection string, docs []bson.Raw) error
}
