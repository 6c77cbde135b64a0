package mysql_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/internal/testenv"
)

// TestDiscoveryTableFamilies: shards of one logical table (msg_0..msg_3,
// keyed by _mid) are never a relation's target, so the inbox shards'
// integer _mid columns cost no checks against them; members of a family
// that reference an ordinary table are still checked, each one.
func TestDiscoveryTableFamilies(t *testing.T) {
	url, db := testenv.MySQLDatabase(t, "discfam")
	dbName := url[strings.LastIndex(url, "/")+1:]
	mustExec(t, db, "CREATE TABLE users (user_id VARCHAR(64) PRIMARY KEY)", "INSERT INTO users VALUES ('u1'), ('u2')")
	for i := 0; i < 4; i++ {
		mustExec(t, db, fmt.Sprintf("CREATE TABLE msg_%d (_mid BIGINT PRIMARY KEY, body TEXT)", i),
			fmt.Sprintf("INSERT INTO msg_%d VALUES (%d, 'x')", i, i))
	}
	for i := 0; i < 3; i++ {
		mustExec(t, db, fmt.Sprintf("CREATE TABLE inbox_%d (id INT PRIMARY KEY, _mid BIGINT, user_id VARCHAR(64))", i),
			fmt.Sprintf("INSERT INTO inbox_%d VALUES (1, %d, 'u%d')", i, i, 1+i%2))
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	r, err := bundle.Open(exportBundle(t, url, exporter.Options{Log: log}))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var got []string
	for _, rel := range r.Manifest().Relations {
		got = append(got, strings.TrimPrefix(rel.From.Dataset, dbName+".")+"("+rel.From.Columns[0]+")->"+strings.TrimPrefix(rel.To.Dataset, dbName+"."))
	}
	want := "inbox_0(user_id)->users inbox_1(user_id)->users inbox_2(user_id)->users"
	if strings.Join(got, " ") != want {
		t.Errorf("relations %q, want %q", strings.Join(got, " "), want)
	}
	var rec struct {
		Msg        string
		Candidates int `json:"candidates"`
		Skipped    int `json:"shard_targets_skipped"`
	}
	found := false
	for _, line := range strings.Split(logs.String(), "\n") {
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "discovering relations" {
			found = true
			break
		}
	}
	// Candidates: each inbox shard's user_id against users. Skipped: the
	// three inbox shards' _mid against each of the four msg shards, and
	// each msg shard's _mid against the three others.
	if !found || rec.Candidates != 3 || rec.Skipped != 3*4+4*3 {
		t.Fatalf("discovery log %+v (found %v), want 3 candidates and 24 shard targets skipped:\n%s", rec, found, logs.String())
	}
}
