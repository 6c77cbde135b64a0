package convert

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// A mapping's finally documents (SPEC.md §11.6) are written into a MongoDB
// target after everything else of the import succeeded: the version
// markers an application reads to know that its data was migrated (OpenIM
// 3.5's dataver, 3.8's data_version). Written earlier, a failed import
// would leave a site that claims to be migrated; so the import writes them
// only when every target loaded every dataset with no reject, and verify
// --against checks them.

// FinalEntry is one collection's finally documents.
type FinalEntry struct {
	Target    string   `yaml:"target"`    // collection, or database.collection
	Documents []string `yaml:"documents"` // each a document as Extended JSON
}

// FinalDocuments are an entry's documents, parsed, for one collection.
type FinalDocuments struct {
	Namespace  string // "" is the target URL's database
	Collection string
	Docs       []bson.Raw // each with an _id
}

// checkFinally parses the finally documents when the file is read.
func (m *Mapping) checkFinally() error {
	seen := map[string]string{}
	for i, e := range m.Finally {
		at := fmt.Sprintf("$.finally[%d]", i)
		ns, coll, ok := strings.Cut(e.Target, ".")
		if !ok {
			ns, coll = "", e.Target
		}
		if coll == "" || ok && ns == "" {
			return m.errorAt(at, "finally documents need a target: a collection, or database.collection")
		}
		if len(e.Documents) == 0 {
			return m.errorAt(at, "finally documents for %s: none given", e.Target)
		}
		fd := FinalDocuments{Namespace: ns, Collection: coll}
		for j, text := range e.Documents {
			dat := fmt.Sprintf("%s.documents[%d]", at, j)
			var d bson.D
			if err := bson.UnmarshalExtJSON([]byte(text), true, &d); err != nil {
				return m.errorAt(dat, "not a document in canonical Extended JSON: %v", err)
			}
			raw, err := bson.Marshal(d)
			if err != nil {
				return m.errorAt(dat, "%v", err)
			}
			raw = withFinalID(e.Target, raw)
			id := bson.Raw(raw).Lookup("_id").String()
			if prev, dup := seen[e.Target+" "+id]; dup {
				return m.errorAt(dat, "the document at %s has the same _id %s", prev, id)
			}
			seen[e.Target+" "+id] = m.position(dat)
			fd.Docs = append(fd.Docs, raw)
		}
		m.final = append(m.final, fd)
	}
	return nil
}

// withFinalID gives a document without _id a deterministic ObjectId (the
// first 12 bytes of the SHA-256 of the target and the document's BSON),
// first, so that an import run again replaces the same document and
// verify knows which to read.
func withFinalID(target string, doc []byte) []byte {
	if _, err := bson.Raw(doc).LookupErr("_id"); err == nil {
		return doc
	}
	h := sha256.New()
	h.Write([]byte(target))
	h.Write([]byte{0})
	h.Write(doc)
	var oid bson.ObjectID
	copy(oid[:], h.Sum(nil)[:12])
	idx, out := bsoncore.ReserveLength(nil)
	out = bsoncore.AppendObjectIDElement(out, "_id", oid)
	out = append(out, doc[4:]...) // the elements and the terminating 0
	return bsoncore.UpdateLength(out, idx, int32(len(out)))
}

// Final returns the mapping's finally documents (nil for none).
func (m *Mapping) Final() []FinalDocuments {
	if m == nil {
		return nil
	}
	return m.final
}

// SameDocument reports whether a document read back is the one written:
// byte for byte.
func SameDocument(want, got bson.Raw) bool { return bytes.Equal(want, got) }
