package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/imbundle/imbundle/fixtures"
	"github.com/imbundle/imbundle/internal/testenv"
)

// rcOpenIM38 is the Redis database the OpenIM 3.4 seq keys go into.
const rcOpenIM38 = 13

// TestOpenIMProfileV38: an OpenIM 3.4 fixture site (MySQL tables, MongoDB
// msg, Redis seq keys of one world) exported into one bundle imports with
// the openim-v3.8 profile into the 3.5+ collections: renamed fields,
// ObjectId _ids with the old keys as fields under unique indexes, dates,
// chat_logs kept, msg as it was, seq and seq_user as the Redis keys said;
// verify --against with the profile is green, and red after a change.
func TestOpenIMProfileV38(t *testing.T) {
	ctx := context.Background()
	sc := fixtures.Scale{Users: 30, Groups: 3, Messages: 600}
	w := fixtures.MustNew(7, sc)
	myURL, mydb := testenv.MySQLDatabase(t, "oim38")
	if _, err := fixtures.LoadOpenIMMySQL(ctx, mydb, w, fixtures.MySQLLoadOptions{}); err != nil {
		t.Fatal(err)
	}
	mURL, mdb := testenv.MongoDatabase(t, "oim38m")
	if _, err := fixtures.LoadOpenIMMongo(ctx, mdb, w, fixtures.MongoLoadOptions{}); err != nil {
		t.Fatal(err)
	}
	// The fixture writes the 3.8 layout; a 3.4 site's MongoDB holds msg.
	for _, c := range fixtures.OpenIMMongoCollections {
		if c != "msg" {
			if err := mdb.Collection(c).Drop(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	rc := testenv.Redis(t, rcOpenIM38)
	rc.FlushDB(ctx)
	t.Cleanup(func() { rc.FlushDB(context.Background()) })
	redisURL := fmt.Sprintf("redis://%s/%d", testenv.RedisAddr(), rcOpenIM38)
	if out, err := runCLI(t, "-q", "fixtures", "redis", "--target", redisURL, "--seed", "7", "--users", "30", "--groups", "3", "--messages", "600", "--edge=false"); err != nil {
		t.Fatalf("fixtures redis: %v\n%s", err, out)
	}
	export := func(name string) string {
		t.Helper()
		path := filepath.Join(t.TempDir(), name)
		if out, err := runCLI(t, "-q", "export", "--source", myURL, "--source", mURL, "--source", "redis://"+testenv.RedisAddr(), "--db", fmt.Sprint(rcOpenIM38), "-o", path, "--param", "lock-wait=2"); err != nil {
			t.Fatalf("export the site: %v\n%s", err, out)
		}
		return path
	}
	path := export("dirty.imb")
	d1URL, d1 := testenv.MongoDatabase(t, "oim38r")
	if out, err := runCLI(t, "plan", path, "--target", d1URL, "--profile", "openim-v3.8"); err != nil || !strings.Contains(out, "name becomes nickname") || !strings.Contains(out, "ObjectId derived from the primary key") || !strings.Contains(out, `finally  dataver <- {"_id": {"$oid":`) {
		t.Fatalf("plan: %v\n%s", err, out)
	}
	rejects := filepath.Join(t.TempDir(), "rejects.jsonl")
	out, err := runCLI(t, "import", path, "--target", d1URL, "--profile", "openim-v3.8", "--rejects", rejects)
	// The fixture plants zero dates in friend_requests.handle_time (3.4
	// wrote them): a BSON date cannot hold one, so those rows are rejects,
	// named in the reject file, the import says so (exit 4), and the
	// version markers are not written.
	data, _ := os.ReadFile(rejects)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if err == nil || len(lines) != 2 || !strings.Contains(out, "finally documents were not written") {
		t.Fatalf("import: %v, want the 2 zero-date rejects and no markers\n%s\n%s", err, out, data)
	}
	for _, l := range lines {
		if !strings.Contains(l, `"dataset":"`+mydb0(myURL)+`.friend_requests"`) || !strings.Contains(l, "column handle_time holds") {
			t.Errorf("reject %s: want a zero handle_time of friend_requests", l)
		}
	}
	// The same import again finds the bundle already imported, less the
	// rejects of the first run: still no markers.
	out, err = runCLI(t, "import", path, "--target", d1URL, "--profile", "openim-v3.8")
	if !strings.Contains(out, "finally documents were not written: 2 record(s) of "+mydb0(myURL)+".friend_requests were refused") {
		t.Errorf("import again after rejects: %v\n%s", err, out)
	}
	if n, _ := d1.Collection("dataver").CountDocuments(ctx, bson.D{}); n != 0 {
		t.Errorf("dataver holds %d document(s) after an import with rejects", n)
	}

	// Fixed at the source (the epoch is OpenIM's unset time), the site
	// imports whole, and the markers come last.
	if _, err := mydb.Exec("UPDATE friend_requests SET handle_time = '1970-01-01' WHERE CAST(handle_time AS CHAR) LIKE '0000%'"); err != nil {
		t.Fatal(err)
	}
	path = export("site.imb")
	dURL, ddb := testenv.MongoDatabase(t, "oim38d")
	out, err = runCLI(t, "import", path, "--target", dURL, "--profile", "openim-v3.8")
	if err != nil || !strings.Contains(out, "finally: 2 document(s) written") {
		t.Fatalf("import: %v\n%s", err, out)
	}
	for coll, want := range map[string][2]string{"dataver": {"data_version", "35"}, "data_version": {"seq", "38"}} {
		docs := testenv.RawDocs(t, ddb.Collection(coll))
		if len(docs) != 1 || docs[0].Lookup("key").StringValue() != want[0] || docs[0].Lookup("value").StringValue() != want[1] {
			t.Errorf("%s: %v, want one document {key: %q, value: %q}", coll, docs, want[0], want[1])
		}
	}
	names, err := ddb.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	want := "black chat_logs conversation friend friend_request group group_member group_request log msg s3 seq seq_user user"
	have := map[string]bool{}
	for _, n := range names {
		have[n] = true
	}
	for _, n := range strings.Fields(want) {
		if !have[n] {
			t.Errorf("no collection %s; have %v\n%s", n, names, out)
		}
	}

	// A user: ObjectId _id, user_id a field, name renamed, a date.
	u := w.Users[2]
	var doc bson.M
	if err := ddb.Collection("user").FindOne(ctx, bson.D{{Key: "user_id", Value: u.ID}}).Decode(&doc); err != nil {
		t.Fatalf("user %s: %v", u.ID, err)
	}
	if _, ok := doc["_id"].(bson.ObjectID); !ok {
		t.Errorf("user _id %T, want an ObjectId: %v", doc["_id"], doc)
	}
	if _, ok := doc["name"]; ok || doc["nickname"] == nil {
		t.Errorf("user %v: want nickname, no name", doc)
	}
	if _, ok := doc["create_time"].(bson.DateTime); !ok {
		t.Errorf("user create_time %T, want a BSON date", doc["create_time"])
	}
	// The whole document: the MySQL row's columns in table order, name as
	// nickname, _id the ObjectId SPEC §11.6 derives from the key's _id
	// element (String user_id), computed here independently.
	var nick, face, ex, createdText string
	var level, opt int32
	if err := mydb.QueryRow("SELECT name, face_url, ex, DATE_FORMAT(create_time, '%Y-%m-%d %H:%i:%s.%f'), app_manger_level, global_recv_msg_opt FROM users WHERE user_id = ?", u.ID).Scan(&nick, &face, &ex, &createdText, &level, &opt); err != nil {
		t.Fatal(err)
	}
	created, err := time.Parse("2006-01-02 15:04:05.000000", createdText) // a DATETIME's wall clock, as UTC (§11.1)
	if err != nil {
		t.Fatal(err)
	}
	el := bsoncore.AppendStringElement(nil, "_id", u.ID)
	sum := sha256.Sum256(el)
	var oid bson.ObjectID
	copy(oid[:], sum[:12])
	wantDoc, _ := bson.Marshal(bson.D{{Key: "_id", Value: oid}, {Key: "user_id", Value: u.ID}, {Key: "nickname", Value: nick}, {Key: "face_url", Value: face}, {Key: "ex", Value: ex},
		{Key: "create_time", Value: bson.NewDateTimeFromTime(created)}, {Key: "app_manger_level", Value: level}, {Key: "global_recv_msg_opt", Value: opt}})
	gotDoc, err := ddb.Collection("user").FindOne(ctx, bson.D{{Key: "user_id", Value: u.ID}}).Raw()
	if err != nil || !bytes.Equal(gotDoc, wantDoc) {
		t.Errorf("user %s: %v %s, want %s", u.ID, err, gotDoc, bson.Raw(wantDoc))
	}
	n, _ := ddb.Collection("user").CountDocuments(ctx, bson.D{})
	if n != int64(len(w.Users)) {
		t.Errorf("%d users, want %d", n, len(w.Users))
	}
	for coll, fields := range map[string][]string{"group": {"group_name"}, "group_member": {"face_url", "group_id", "user_id"}, "s3": {"group", "engine"}, "log": {"file_name"}} {
		var d bson.M
		err := ddb.Collection(coll).FindOne(ctx, bson.D{}).Decode(&d)
		if coll == "s3" || coll == "log" {
			if c, _ := mydb.Query("SELECT 1 FROM `" + map[string]string{"s3": "object", "log": "logs"}[coll] + "` LIMIT 1"); c != nil {
				if !c.Next() {
					c.Close()
					continue // the fixture has no rows there
				}
				c.Close()
			}
		}
		if err != nil {
			t.Errorf("%s: %v", coll, err)
			continue
		}
		for _, f := range fields {
			if _, ok := d[f]; !ok {
				t.Errorf("%s document %v has no %s", coll, d, f)
			}
		}
	}

	// Unique indexes as OpenIM 3.5+ creates them.
	for coll, ix := range map[string]string{"user": "user_id_1", "friend": "owner_user_id_1_friend_user_id_1", "group_member": "group_id_1_user_id_1", "conversation": "owner_user_id_1_conversation_id_1"} {
		specs, err := ddb.Collection(coll).Indexes().ListSpecifications(ctx)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, s := range specs {
			found = found || s.Name == ix && s.Unique != nil && *s.Unique
		}
		if !found {
			t.Errorf("%s: no unique index %s in %v", coll, ix, specs)
		}
	}

	// seq: max_seq and min_seq per conversation as the Redis keys said.
	for _, ch := range []fixtures.Chat{w.Chats[0], w.Chats[len(w.Chats)-1]} {
		var s struct {
			ID     string `bson:"_id"`
			Conv   string `bson:"conversation_id"`
			MaxSeq int64  `bson:"max_seq"`
			MinSeq int64  `bson:"min_seq"`
		}
		if err := ddb.Collection("seq").FindOne(ctx, bson.D{{Key: "conversation_id", Value: ch.ID}}).Decode(&s); err != nil {
			t.Fatalf("seq %s: %v", ch.ID, err)
		}
		maxSeq, _ := rc.Get(ctx, fixtures.RedisMaxSeq+ch.ID).Int64()
		minSeq, _ := rc.Get(ctx, fixtures.RedisMinSeq+ch.ID).Int64()
		if s.MaxSeq != maxSeq || s.MinSeq != minSeq || s.MaxSeq != ch.MaxSeq || s.ID != ch.ID {
			t.Errorf("seq %+v, want max_seq %d min_seq %d (Redis), %d (world)", s, maxSeq, minSeq, ch.MaxSeq)
		}
		raw, _ := ddb.Collection("seq").FindOne(ctx, bson.D{{Key: "conversation_id", Value: ch.ID}}).Raw()
		if want, _ := bson.Marshal(bson.D{{Key: "_id", Value: ch.ID}, {Key: "conversation_id", Value: ch.ID}, {Key: "max_seq", Value: maxSeq}, {Key: "min_seq", Value: minSeq}}); !bytes.Equal(raw, want) {
			t.Errorf("seq document %s, want %s", raw, bson.Raw(want))
		}
	}
	if n, _ := ddb.Collection("seq").CountDocuments(ctx, bson.D{}); n != int64(len(w.Chats)) {
		t.Errorf("%d seq documents, want %d", n, len(w.Chats))
	}
	reads := rc.Keys(ctx, fixtures.RedisHasReadSeq+"*").Val()
	if n, _ := ddb.Collection("seq_user").CountDocuments(ctx, bson.D{}); n != int64(len(reads)) || n == 0 {
		t.Errorf("%d seq_user documents, want %d", n, len(reads))
	}
	user, conv, _ := strings.Cut(strings.TrimPrefix(reads[0], fixtures.RedisHasReadSeq), ":")
	var su bson.M
	if err := ddb.Collection("seq_user").FindOne(ctx, bson.D{{Key: "user_id", Value: user}, {Key: "conversation_id", Value: conv}}).Decode(&su); err != nil {
		t.Fatalf("seq_user %s %s: %v", user, conv, err)
	}
	if read, _ := rc.Get(ctx, reads[0]).Int64(); su["read_seq"] != read {
		t.Errorf("seq_user %v: read_seq want %d", su, read)
	}
	// Every seq_user document is the world's read position and cleared
	// history of its user and conversation, and no other exists.
	type userSeq struct {
		ID      bson.Raw `bson:"_id"`
		User    string   `bson:"user_id"`
		Conv    string   `bson:"conversation_id"`
		ReadSeq *int64   `bson:"read_seq"`
		MinSeq  *int64   `bson:"min_seq"`
	}
	got := map[string]userSeq{}
	cur, err := ddb.Collection("seq_user").Find(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	for cur.Next(ctx) {
		var us userSeq
		if err := cur.Decode(&us); err != nil {
			t.Fatal(err)
		}
		got[us.User+" "+us.Conv] = us
	}
	cur.Close(ctx)
	convs, cleared := 0, 0
	w.EachConversation(func(cv *fixtures.Conversation) error {
		convs++
		if cv.UserMinSeq > 0 {
			cleared++
		}
		us, ok := got[cv.OwnerUserID+" "+cv.ConversationID]
		switch {
		case !ok:
			t.Errorf("no seq_user for %s %s", cv.OwnerUserID, cv.ConversationID)
		case us.ReadSeq == nil || *us.ReadSeq != cv.ReadSeq:
			t.Errorf("seq_user %s %s: read_seq %v, want %d", us.User, us.Conv, us.ReadSeq, cv.ReadSeq)
		case cv.UserMinSeq > 0 && (us.MinSeq == nil || *us.MinSeq != cv.UserMinSeq), cv.UserMinSeq == 0 && us.MinSeq != nil:
			t.Errorf("seq_user %s %s: min_seq %v, want %d (absent for 0: no CON_USER_MIN_SEQ key)", us.User, us.Conv, us.MinSeq, cv.UserMinSeq)
		case us.ID.Lookup("user_id").StringValue() != us.User || us.ID.Lookup("conversation_id").StringValue() != us.Conv:
			t.Errorf("seq_user _id %s, want {user_id, conversation_id}", us.ID)
		}
		return nil
	})
	if len(got) != convs || cleared == 0 {
		t.Errorf("%d seq_user documents, want %d; %d with a cleared history (the test wants some)", len(got), convs, cleared)
	}
	// msg as it was.
	src, _ := mdb.Collection("msg").CountDocuments(ctx, bson.D{})
	if n, _ := ddb.Collection("msg").CountDocuments(ctx, bson.D{}); n != src || n == 0 {
		t.Errorf("%d msg documents, want %d", n, src)
	}

	verifyAgainst := func() (string, error) {
		return runCLI(t, "verify", path, "--against", dURL, "--profile", "openim-v3.8")
	}
	if out, err := verifyAgainst(); err != nil {
		t.Fatalf("verify --against: %v\n%s", err, out)
	}
	// A missing marker is a difference; the same import again (already
	// imported) writes it back.
	if _, err := ddb.Collection("dataver").DeleteMany(ctx, bson.D{}); err != nil {
		t.Fatal(err)
	}
	if out, err := verifyAgainst(); err == nil || !strings.Contains(out, "MISMATCH finally document") {
		t.Fatalf("verify --against without dataver: %v, want a mismatch naming it\n%s", err, out)
	}
	if out, err := runCLI(t, "import", path, "--target", dURL, "--profile", "openim-v3.8"); err != nil || !strings.Contains(out, "already imported") || !strings.Contains(out, "finally: 2 document(s) written") {
		t.Fatalf("import again: %v\n%s", err, out)
	}
	if out, err := verifyAgainst(); err != nil {
		t.Fatalf("verify --against after the import again: %v\n%s", err, out)
	}
	if _, err := ddb.Collection("user").UpdateOne(ctx, bson.D{{Key: "user_id", Value: u.ID}}, bson.D{{Key: "$set", Value: bson.D{{Key: "nickname", Value: "changed"}}}}); err != nil {
		t.Fatal(err)
	}
	if out, err := verifyAgainst(); err == nil || !strings.Contains(out, "MISMATCH") {
		t.Fatalf("verify --against after a changed user: %v\n%s", err, out)
	}
}

// mydb0 is the database name of a mysql:// URL.
func mydb0(u string) string { return u[strings.LastIndexByte(u, '/')+1:] }
