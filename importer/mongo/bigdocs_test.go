package mongo_test

import (
	"context"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/testenv"
	"github.com/imbundle/imbundle/verify"
)

// TestBigDocumentsDefaults exports, imports and verifies, with every
// setting at its default, a collection shaped like OpenIM's msg at scale:
// 1,200 documents of about 66 KB and a few of several MB, one near the
// 16 MiB BSON maximum. With cursors sized by count (1,000 documents a
// reply) FerretDB sent 66 MB replies and the export failed at the 48 MB
// message limit.
func TestBigDocumentsDefaults(t *testing.T) {
	if testing.Short() {
		t.Skip("writes about 100 MB through the server")
	}
	ctx := context.Background()
	url, db := testenv.MongoDatabase(t, "bigdocs_src")
	c := db.Collection("msg")
	body := func(i, n int) string {
		unit := strings.Repeat("message text ", 8) + string(rune('a'+i%26))
		return strings.Repeat(unit, n/len(unit)+1)[:n]
	}
	sizes := map[int]int{300: 5 << 20, 900: 3 << 20, 1199: 15 << 20}
	var chunk []any
	for i := 0; i < 1200; i++ {
		n := 66 << 10
		if big, ok := sizes[i]; ok {
			n = big
		}
		chunk = append(chunk, bson.D{{Key: "_id", Value: int64(i)}, {Key: "seq", Value: int32(i)}, {Key: "content", Value: body(i, n)}})
		if len(chunk) == 200 || i == 1199 {
			if _, err := c.InsertMany(ctx, chunk); err != nil {
				t.Fatal(err)
			}
			chunk = nil
		}
	}
	path := exportBundle(t, url, exporter.Options{})

	turl, tdb := testenv.MongoDatabase(t, "bigdocs_dst")
	rep, rejects, err := importBundle(t, path, turl, importer.Options{Mode: importer.ModeFail})
	if err != nil {
		t.Fatal(err)
	}
	if rejects.Total() != 0 || rep.Datasets[0].Written != 1200 {
		t.Fatalf("import wrote %d documents, %d rejects; want 1200, 0", rep.Datasets[0].Written, rejects.Total())
	}
	requireMatch(t, verifyAgainst(t, path, turl, verify.AgainstOptions{}), 1)

	// A differing target: verify's lookups of big documents by _id work
	// with the defaults too, and name the document.
	if _, err := tdb.Collection("msg").UpdateOne(ctx, bson.D{{Key: "_id", Value: int64(900)}}, bson.D{{Key: "$set", Value: bson.D{{Key: "seq", Value: int32(-1)}}}}); err != nil {
		t.Fatal(err)
	}
	res := verifyAgainst(t, path, turl, verify.AgainstOptions{})
	if len(res) != 1 || res[0].Match || res[0].Err != nil || len(res[0].Differences) != 1 || res[0].Differences[0].BundleKey[0] != `{"$numberLong":"900"}` {
		t.Fatalf("verify of a changed big document: %+v", res)
	}
}
