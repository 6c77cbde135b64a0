package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/fixtures"
	"github.com/imbundle/imbundle/internal/testenv"
)

// openIMMsg is a message slot of an OpenIM 3.5+ msg document.
func openIMMsg(server, from, to string, seq any, status int32, content any) bson.D {
	m := bson.D{{Key: "server_msg_id", Value: server}, {Key: "client_msg_id", Value: "c" + server}, {Key: "send_id", Value: from},
		{Key: "recv_id", Value: to}, {Key: "seq", Value: seq}, {Key: "send_time", Value: int64(1700000000123)}, {Key: "status", Value: status}}
	if content != nil {
		m = append(m, bson.E{Key: "content", Value: content})
	}
	return bson.D{{Key: "msg", Value: m}, {Key: "revoke", Value: nil}, {Key: "del_list", Value: bson.A{}}, {Key: "is_read", Value: false}}
}

const chatLogsDDL = `CREATE TABLE chat_logs (
  server_msg_id CHAR(64) NOT NULL PRIMARY KEY,
  conversation_id VARCHAR(128),
  client_msg_id CHAR(64),
  send_id CHAR(64),
  recv_id CHAR(64),
  seq BIGINT,
  msg_index INT,
  content VARCHAR(3000),
  status TINYINT NOT NULL,
  send_time DATETIME(3)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`

// TestUnnestOpenIMMessagesIntoChatLogs: an OpenIM-3.5-like msg collection
// (documents of message slots, some empty, some deleted) goes into a
// pre-created chat_logs table by a mapping with unnest, dotted renames, a
// filter, computed columns, a drop and a default: one row per message,
// exactly the expected values; plan shows the entry; verify --against
// converts alike (green, the filtered and refused counted) and sees a
// changed row; bad mappings fail at their line and write nothing.
func TestUnnestOpenIMMessagesIntoChatLogs(t *testing.T) {
	ctx := context.Background()
	srcURL, srcDB := testenv.MongoDatabase(t, "un_src")
	empty := bson.D{{Key: "msg", Value: nil}, {Key: "revoke", Value: nil}, {Key: "del_list", Value: bson.A{}}, {Key: "is_read", Value: false}}
	if _, err := srcDB.Collection("msg").InsertMany(ctx, []any{
		bson.D{{Key: "doc_id", Value: "si_u1_u2:0"}, {Key: "msgs", Value: bson.A{
			openIMMsg("s1", "u1", "u2", int64(1), 2, `{"content":"hi"}`), empty,
			openIMMsg("s3", "u2", "u1", int64(3), 4, "gone"), openIMMsg("s4", "u1", "u2", int64(4), 2, nil)}}},
		bson.D{{Key: "doc_id", Value: "sg_g1:0"}, {Key: "msgs", Value: bson.A{
			openIMMsg("s5", "u1", "g1", int64(1), 2, "group"), openIMMsg("s6", "u1", "g1", "x", 2, "bad seq")}}},
		bson.D{{Key: "doc_id", Value: "si_u1_u3:0"}, {Key: "msgs", Value: bson.A{}}},
	}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bpath := filepath.Join(dir, "msg.imb")
	if out, err := runCLI(t, "-q", "export", "--source", srcURL, "-o", bpath); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	dstURL, dst := testenv.MySQLDatabase(t, "un_dst")
	if _, err := dst.Exec(chatLogsDDL); err != nil {
		t.Fatal(err)
	}
	mapFile := filepath.Join(dir, "m.yaml")
	write := func(s string) {
		if err := os.WriteFile(mapFile, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mapping := `version: 1
datasets:
  - match: "*.msg"
    target: chat_logs
    unnest: {field: msgs, index: msg_index}
    rename:
      msgs.msg.server_msg_id: server_msg_id
      msgs.msg.client_msg_id: client_msg_id
      msgs.msg.send_id: send_id
      msgs.msg.recv_id: recv_id
      msgs.msg.seq: seq
      msgs.msg.content: content
      msgs.msg.status: status
    drop: [doc_id]
    filter: "msgs.msg != nil && msgs.msg.status != 4"
    compute:
      conversation_id: "split(doc_id, ':')[0]"
      send_time: "fromUnixMilli(msgs.msg.send_time)"
    defaults: {content: ""}
`
	write(mapping)
	out, err := runCLI(t, "plan", bpath, "--target", dstURL, "--map", mapFile)
	for _, want := range []string{"by mongodb-collection into existing mysql-table v1", "unnest msgs: a row per element", "field msgs.msg.send_id into column send_id (" + mapFile + ":9:",
		"fields doc_id not loaded", `rows where "msgs.msg != nil && msgs.msg.status != 4" is false`, "column send_time is computed"} {
		if err != nil || !strings.Contains(out, want) {
			t.Errorf("plan: %v, want %q in\n%s", err, want, out)
		}
	}
	rejects := filepath.Join(dir, "rejects.jsonl")
	out, err = runCLI(t, "-q", "import", bpath, "--target", dstURL, "--map", mapFile, "--rejects", rejects)
	if exitCodeOf(err) != exitRejects {
		t.Fatalf("import: exit %d (%v), want %d (one reject)\n%s", exitCodeOf(err), err, exitRejects, out)
	}
	// bundle rows (documents), written, rejected, filtered: as verify counts them below.
	if !regexp.MustCompile(`chat_logs\s+3\s+3\s+1\s+3\s`).MatchString(out) {
		t.Errorf("import report: want 3 documents, 3 rows written, 1 rejected, 3 filtered:\n%s", out)
	}
	if reasons := rejectReasons(t, rejects); len(reasons) != 1 || !strings.Contains(reasons[0], "element 1 of msgs: field msgs.msg.seq (string) into column seq: not a number") {
		t.Errorf("rejects %q, want the message whose seq is a string, by its position", reasons)
	}
	rows, err := dst.Query("SELECT server_msg_id, conversation_id, client_msg_id, send_id, recv_id, seq, msg_index, content, status, DATE_FORMAT(send_time, '%Y-%m-%d %H:%i:%s.%f') FROM chat_logs ORDER BY server_msg_id")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var v [10]string
		if err := rows.Scan(&v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]); err != nil {
			t.Fatal(err)
		}
		got = append(got, strings.Join(v[:], "|"))
	}
	rows.Close()
	want := []string{
		`s1|si_u1_u2|cs1|u1|u2|1|0|{"content":"hi"}|2|2023-11-14 22:13:20.123000`,
		`s4|si_u1_u2|cs4|u1|u2|4|3||2|2023-11-14 22:13:20.123000`,
		`s5|sg_g1|cs5|u1|g1|1|0|group|2|2023-11-14 22:13:20.123000`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("chat_logs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	out, err = runCLI(t, "verify", bpath, "--against", dstURL, "--map", mapFile)
	if err != nil || !strings.Contains(out, "1 refused by the conversion, 3 left out by the mapping's filter") {
		t.Fatalf("verify --against: %v\n%s", err, out)
	}
	// The same import again finds the table holding exactly what it loads.
	if out, err := runCLI(t, "import", bpath, "--target", dstURL, "--map", mapFile, "--rejects", filepath.Join(dir, "again.jsonl")); err != nil || !strings.Contains(out, "already imported") {
		t.Errorf("the same import again: %v\n%s", err, out)
	}
	if _, err := dst.Exec("UPDATE chat_logs SET content = 'changed' WHERE server_msg_id = 's5'"); err != nil {
		t.Fatal(err)
	}
	if out, err := runCLI(t, "verify", bpath, "--against", dstURL, "--map", mapFile); exitCodeOf(err) != exitMismatch || !strings.Contains(out, "MISMATCH") {
		t.Errorf("verify after a changed row: exit %d (%v), want %d\n%s", exitCodeOf(err), err, exitMismatch, out)
	}

	// Bad mappings: each fails at its line, and nothing is written.
	emptyURL, emptyDB := testenv.MySQLDatabase(t, "un_bad")
	if _, err := emptyDB.Exec(chatLogsDDL); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		from, to, where string
		code            int
	}{
		{"      msgs.msg.send_id: send_id\n", "      msgs.msg.send_id: sender\n", mapFile + ":9:25: rename msgs.msg.send_id: the table has no column sender", exitError},
		{"    unnest: {field: msgs, index: msg_index}\n", "    unnest: {field: msgs.msg, index: msg_index}\n", mapFile + ":5:21: unnest msgs.msg: only a top-level array field", exitBadInput},
		{`    filter: "msgs.msg != nil && msgs.msg.status != 4"`, `    filter: "msgz.msg != nil"`, mapFile + ":15:13: unknown name msgz", exitError},
		{"    target: chat_logs\n", "    target: no_such_table\n", "there is no such table: the mapping entry at ", exitError},
	} {
		write(strings.Replace(mapping, c.from, c.to, 1))
		out, err := runCLI(t, "-q", "import", bpath, "--target", emptyURL, "--map", mapFile)
		if exitCodeOf(err) != c.code || err == nil || !strings.Contains(err.Error(), c.where) {
			t.Errorf("%q: exit %d (%v), want %d naming %q\n%s", c.to, exitCodeOf(err), err, c.code, c.where, out)
		}
	}
	write(mapping)
	noTable, _ := testenv.MySQLDatabase(t, "un_none")
	if out, err := runCLI(t, "verify", bpath, "--against", noTable, "--map", mapFile); err == nil || !strings.Contains(err.Error(), "there is no such table: the mapping entry at ") {
		t.Errorf("verify against a database without chat_logs: %v\n%s", err, out)
	}
	var n int
	var tables []string
	if err := emptyDB.QueryRow("SELECT COUNT(*) FROM chat_logs").Scan(&n); err != nil || n != 0 {
		t.Errorf("a refused mapping wrote %d rows (%v)", n, err)
	}
	trows, err := emptyDB.Query("SHOW TABLES")
	if err != nil {
		t.Fatal(err)
	}
	for trows.Next() {
		var s string
		trows.Scan(&s)
		tables = append(tables, s)
	}
	trows.Close()
	if strings.Join(tables, ",") != "chat_logs" {
		t.Errorf("tables after refused mappings: %v, want chat_logs alone", tables)
	}
}

// TestOpenIMProfileMsgBackToChatLogs: the same fixture world loaded as
// OpenIM 3.5+ MongoDB (msg documents of 100 slots) and as OpenIM 3.4
// MySQL (chat_logs): the msg collection imported into an empty 3.4 schema
// with the shipped profile gives exactly the 3.4 chat_logs rows, which
// verify --against with the MySQL bundle proves; the empty slots are
// counted as filtered.
func TestOpenIMProfileMsgBackToChatLogs(t *testing.T) {
	ctx := context.Background()
	w := fixtures.MustNew(11, fixtures.Scale{Users: 40, Groups: 4, Messages: 1500})
	mURL, mdb := testenv.MongoDatabase(t, "oim_m")
	if _, err := fixtures.LoadOpenIMMongo(ctx, mdb, w, fixtures.MongoLoadOptions{}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	mpath := filepath.Join(dir, "mongo.imb")
	if out, err := runCLI(t, "-q", "export", "--source", mURL, "-o", mpath); err != nil {
		t.Fatalf("export from MongoDB: %v\n%s", err, out)
	}
	aURL, adb := testenv.MySQLDatabase(t, "oim_a")
	if _, err := fixtures.LoadOpenIMMySQL(ctx, adb, w, fixtures.MySQLLoadOptions{}); err != nil {
		t.Fatal(err)
	}
	apath := filepath.Join(dir, "mysql.imb")
	if out, err := runCLI(t, "-q", "export", "--source", aURL, "-o", apath, "--param", "lock-wait=2"); err != nil {
		t.Fatalf("export from MySQL: %v\n%s", err, out)
	}
	bURL, bdb := testenv.MySQLDatabase(t, "oim_b")
	if err := fixtures.CreateOpenIMMySQL(ctx, bdb); err != nil {
		t.Fatal(err)
	}
	msg := mdb.Name() + ".msg"
	out, err := runCLI(t, "plan", mpath, "--target", bURL, "--profile", "openim-msg-to-chat-logs")
	if err != nil || !strings.Contains(out, "field msgs.msg.sender_nickname into column sender_nick_name") {
		t.Errorf("plan: %v\n%s", err, out)
	}
	out, err = runCLI(t, "-q", "import", mpath, "--target", bURL, "--datasets", msg, "--profile", "openim-msg-to-chat-logs")
	if err != nil {
		t.Fatalf("import msg with the profile: %v\n%s", err, out)
	}
	var docs int64
	if docs, err = mdb.Collection("msg").CountDocuments(ctx, bson.D{}); err != nil {
		t.Fatal(err)
	}
	empty := docs*100 - 1500 // the last document of each conversation keeps its unused slots
	if !regexp.MustCompile(fmt.Sprintf(`chat_logs\s+%d\s+1500\s+0\s+%d\s`, docs, empty)).MatchString(out) {
		t.Errorf("import report: want %d documents, 1500 rows, 0 rejected, %d filtered:\n%s", docs, empty, out)
	}
	if out, err := runCLI(t, "verify", apath, "--against", bURL, "--datasets", aURL[strings.LastIndexByte(aURL, '/')+1:]+".chat_logs"); err != nil {
		t.Fatalf("verify the 3.4 chat_logs against the table loaded from msg: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "verify", mpath, "--against", bURL, "--datasets", msg, "--profile", "openim-msg-to-chat-logs"); err != nil || !strings.Contains(out, fmt.Sprintf("%d left out by the mapping's filter", empty)) {
		t.Fatalf("verify the msg bundle with the profile: %v\n%s", err, out)
	}
}
