package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/testenv"
)

// nestChat is a chat_logs-like table's rows: conversations si_a (250
// messages, so three documents of 100 seqs), sg_b (5) and si_c (101, so
// two), inserted and exported with their seqs out of order.
type nestChat struct {
	id, conv, send string
	seq            int64
	content        string
	sent           time.Time
}

func nestChatRows() []nestChat {
	var rows []nestChat
	pad := strings.Repeat("p", 30000) // over 8 MiB: several batches, so several parts at --part-size 1
	for conv, n := range map[string]int{"si_a": 250, "sg_b": 5, "si_c": 101} {
		for s := 1; s <= n; s++ {
			rows = append(rows, nestChat{id: fmt.Sprintf("%08x", hashOf(fmt.Sprint(conv, s))), conv: conv, send: "u" + fmt.Sprint(s%3), seq: int64(s),
				content: fmt.Sprintf(`{"content":"%s %d %s"}`, conv, s, pad), sent: time.UnixMilli(1700000000000 + int64(s)*1001).UTC()})
		}
	}
	// The ids are hashes, so the export's primary key order scatters
	// the conversations and seqs; insert them in yet another order.
	sort.Slice(rows, func(i, j int) bool { return hashOf(rows[i].content) < hashOf(rows[j].content) })
	return rows
}

func hashOf(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * 16777619
	}
	return h
}

// expectedMsgDocs is what the nest mapping of TestNestChatLogsIntoMongo
// makes of rows, by _id.
func expectedMsgDocs(rows []nestChat) map[string]string {
	groups := map[string][]nestChat{}
	for _, r := range rows {
		k := fmt.Sprintf("%s:%d", r.conv, (r.seq-1)/100)
		groups[k] = append(groups[k], r)
	}
	out := map[string]string{}
	for k, g := range groups {
		sort.Slice(g, func(i, j int) bool { return g[i].seq < g[j].seq })
		var msgs bson.A
		for _, r := range g {
			msgs = append(msgs, bson.D{{Key: "msg", Value: bson.D{{Key: "server_msg_id", Value: r.id}, {Key: "send_id", Value: r.send},
				{Key: "seq", Value: r.seq}, {Key: "content", Value: r.content}, {Key: "send_time", Value: bson.NewDateTimeFromTime(r.sent)}}}})
		}
		raw, _ := bson.Marshal(bson.D{{Key: "_id", Value: k}, {Key: "doc_id", Value: k}, {Key: "msgs", Value: msgs}})
		out[k] = bson.Raw(raw).String()
	}
	return out
}

// TestNestChatLogsIntoMongo: a chat_logs table over several parts becomes
// OpenIM 3.5's msg documents, 100 seqs a document in seq order whatever
// the insertion order, through plan, import (sorting with a 1 MiB budget)
// and verify --against, which fails after a changed element; mistakes in
// the nest key fail at FILE:LINE:COLUMN with nothing written.
func TestNestChatLogsIntoMongo(t *testing.T) {
	rows := nestChatRows()
	queries := []string{"CREATE TABLE chat_logs (server_msg_id CHAR(16) PRIMARY KEY, conversation_id VARCHAR(64) NOT NULL, send_id VARCHAR(64), seq BIGINT NOT NULL, content TEXT, send_time DATETIME(3), KEY k_conv (conversation_id, seq))"}
	for i := 0; i < len(rows); i += 50 {
		var vals []string
		for _, r := range rows[i:min(i+50, len(rows))] {
			vals = append(vals, fmt.Sprintf("('%s', '%s', '%s', %d, '%s', '%s')", r.id, r.conv, r.send, r.seq, r.content, r.sent.Format("2006-01-02 15:04:05.000")))
		}
		queries = append(queries, "INSERT INTO chat_logs VALUES "+strings.Join(vals, ", "))
	}
	srcURL, src := testenv.MySQLDatabase(t, "nest_src")
	for _, q := range queries {
		if _, err := src.Exec(q); err != nil {
			t.Fatalf("%.80s: %v", q, err)
		}
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "b.imb")
	if out, err := runCLI(t, "-q", "export", "--source", srcURL, "-o", path, "--part-size", "1", "--param", "lock-wait=2"); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	r, err := bundle.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	parts := len(r.Manifest().Datasets[0].Parts)
	r.Close()
	if parts < 2 {
		t.Fatalf("chat_logs is %d part(s): the test means to group rows across parts", parts)
	}
	dstURL, db := testenv.MongoDatabase(t, "nest_dst")
	dstDB := dstURL[strings.LastIndexByte(dstURL, '/')+1:]
	mapFile := filepath.Join(dir, "m.yaml")
	mapping := `version: 1
datasets:
  - match: "*.chat_logs"
    target: ` + dstDB + `.msg
    rename: {server_msg_id: msg.server_msg_id, send_id: msg.send_id, seq: msg.seq, content: msg.content, send_time: msg.send_time}
    drop: [conversation_id]
    nest:
      by: "conversation_id + ':' + string(int((seq - 1) / 100))"
      into: msgs
      order: [seq]
      key: doc_id
`
	os.WriteFile(mapFile, []byte(mapping), 0o644)
	out, err := runCLI(t, "plan", path, "--target", dstURL, "--map", mapFile)
	if err != nil || !strings.Contains(out, "mysql-table nested to mongodb-collection v1") || !strings.Contains(out, "-> collection "+dstDB+".msg") ||
		!strings.Contains(out, "nest ("+mapFile+":8:9)") {
		t.Errorf("plan: %v\n%s", err, out)
	}
	sortDir := t.TempDir()
	out, err = runCLI(t, "-q", "import", path, "--target", dstURL, "--map", mapFile, "--rejects", filepath.Join(dir, "r.jsonl"), "--max-rejects", "0", "--sort-memory", "1", "--temp-dir", sortDir)
	if err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	if left, _ := os.ReadDir(sortDir); len(left) != 0 {
		t.Errorf("sort files left: %v", left)
	}
	ctx := context.Background()
	cur, err := db.Collection("msg").Find(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for cur.Next(ctx) {
		got[cur.Current.Lookup("_id").StringValue()] = cur.Current.String()
	}
	want := expectedMsgDocs(rows)
	if len(got) != len(want) || len(want) != 6 {
		t.Errorf("%d documents, want %d (6)", len(got), len(want))
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("document %s:\n got %.400s\nwant %.400s", k, got[k], w)
		}
	}
	out, err = runCLI(t, "verify", path, "--against", dstURL, "--map", mapFile, "--sort-memory", "1", "--temp-dir", sortDir)
	if err != nil {
		t.Fatalf("verify --against: %v\n%s", err, out)
	}
	db.Collection("msg").UpdateOne(ctx, bson.D{{Key: "_id", Value: "si_a:1"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "msgs.3.msg.send_id", Value: "changed"}}}})
	if out, err := runCLI(t, "verify", path, "--against", dstURL, "--map", mapFile); exitCodeOf(err) != exitMismatch {
		t.Errorf("verify after a changed element: exit %d, want %d\n%s", exitCodeOf(err), exitMismatch, out)
	}

	other, odb := testenv.MongoDatabase(t, "nest_bad")
	os.WriteFile(mapFile, []byte(strings.Replace(mapping, "order: [seq]", "order: [seq, nope]", 1)), 0o644)
	out, err = runCLI(t, "-q", "import", path, "--target", other, "--map", mapFile)
	if err == nil || !strings.Contains(err.Error(), mapFile+":10:20: nest order nope") || !strings.Contains(err.Error(), "nothing was written") {
		t.Errorf("import with an order column the table lacks: %v\n%s", err, out)
	}
	if names, _ := odb.ListCollectionNames(ctx, bson.D{}); len(names) != 0 {
		t.Errorf("a refused mapping wrote %v", names)
	}
	os.WriteFile(mapFile, []byte(strings.Replace(mapping, "into: msgs", "into: msgs.list", 1)), 0o644)
	if _, err := runCLI(t, "plan", path, "--target", dstURL, "--map", mapFile); exitCodeOf(err) != exitBadInput || !strings.Contains(err.Error(), mapFile+":9:13: nest into msgs.list") {
		t.Errorf("a dotted into: exit %d %v, want %d naming %s:9:13", exitCodeOf(err), err, exitBadInput, mapFile)
	}
}
