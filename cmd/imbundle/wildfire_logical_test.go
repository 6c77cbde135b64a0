package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/fixtures"
	"github.com/imbundle/imbundle/internal/testenv"
)

// TestWildfireLogicalDatasets is issue 11's item 3 with export --profile
// wildfirechat: the 36 + 128 + 128 shards of a WildfireChat fixture site
// export as three logical datasets (members listed, rows the shards'
// sums, the site's relations recorded, the planted orphans found by
// verify --relations); the bundle goes back into a Flyway-made pure-MySQL
// site by wildfirechat-mysql and into an empty database without a
// profile, every row into its own shard both times; into a hybrid site by
// wildfirechat-hybrid, whose export with the profile goes back into pure
// MySQL, every row in its own shard again.
func TestWildfireLogicalDatasets(t *testing.T) {
	ctx := context.Background()
	opt := fixtures.WildfireOptions{Users: 40, Groups: 5, Messages: 500, Seed: 21, Dirty: 0.03, LegacyMidIndex: true}
	srcURL, src := testenv.MySQLDatabase(t, "wfl_src")
	counts, dirty, err := fixtures.LoadWildfireMySQL(ctx, src, opt)
	if err != nil {
		t.Fatal(err)
	}
	if dirty.OrphanUserMessages == 0 {
		t.Fatalf("the fixture planted %+v: choose a seed that plants orphan inbox rows", dirty)
	}
	sums := map[string]int64{}
	for _, c := range counts {
		for _, fam := range []string{"t_messages", "t_user_messages", "t_group_messages"} {
			if strings.HasPrefix(c.Table, fam+"_") {
				sums[fam] += c.Rows
			}
		}
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "logical.imb")
	if out, err := runCLI(t, "-q", "export", "--profile", "wildfirechat", "--source", srcURL, "-o", file); err != nil {
		t.Fatalf("export --profile wildfirechat: %v\n%s", err, out)
	}
	r, err := bundle.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	m := r.Manifest()
	r.Close()
	srcDB := dbName(srcURL)
	if len(m.Datasets) != 8 {
		t.Errorf("%d datasets, want 5 side tables and 3 logical datasets", len(m.Datasets))
	}
	for fam, members := range map[string]int{"t_messages": 36, "t_user_messages": 128, "t_group_messages": 128} {
		var found bool
		for _, ds := range m.Datasets {
			if ds.Name != srcDB+"."+fam {
				continue
			}
			found = true
			var rows int64
			for _, mb := range ds.Members {
				rows += mb.Rows
				if !strings.HasPrefix(mb.Object, fam+"_") || !strings.Contains(mb.DDL, "CREATE TABLE `"+mb.Object+"`") {
					t.Errorf("%s: member %s with DDL %.60q", ds.Name, mb.Object, mb.DDL)
				}
			}
			if len(ds.Members) != members || ds.Rows != sums[fam] || rows != sums[fam] || ds.Object != fam {
				t.Errorf("%s: object %s, %d members holding %d rows, %d rows; want %d members, %d rows", ds.Name, ds.Object, len(ds.Members), rows, ds.Rows, members, sums[fam])
			}
		}
		if !found {
			t.Errorf("no logical dataset %s.%s", srcDB, fam)
		}
	}
	if len(m.Relations) != 9 {
		t.Errorf("%d relations recorded, want the profile's 9: %+v", len(m.Relations), m.Relations)
	}
	out, err := runCLI(t, "inspect", file)
	if err != nil || !strings.Contains(out, srcDB+".t_user_messages(_mid) -> "+srcDB+".t_messages(_mid)  [declared]") {
		t.Errorf("inspect: %v, want the relation between the logical datasets\n%s", err, out)
	}
	if out, err := runCLI(t, "-q", "verify", file); err != nil {
		t.Fatalf("verify offline: %v\n%s", err, out)
	}
	out, err = runCLI(t, "verify", file, "--relations")
	want := fmt.Sprintf("relation %s.t_user_messages(_mid) -> %s.t_messages(_mid): %d values, %d ORPHANS", srcDB, srcDB, sums["t_user_messages"], dirty.OrphanUserMessages)
	if err != nil || !strings.Contains(out, want) || strings.Count(out, "no orphan") != 8 {
		t.Errorf("verify --relations: %v, want %q and every other relation without orphans\n%s", err, want, out)
	}
	// The checks read the logical datasets as they read the shards.
	logicalChecks := runChecksJSON(t, file, "--profile", "wildfirechat-checks")
	if c := logicalChecks["inbox-row-has-message"]; c.Violations != dirty.OrphanUserMessages || c.Rows != sums["t_user_messages"] {
		t.Errorf("check inbox-row-has-message over the logical datasets: %+v, planted %d", c, dirty.OrphanUserMessages)
	}

	// Into a pure-MySQL site whose Flyway made the tables.
	pureURL, pure := testenv.MySQLDatabase(t, "wfl_pure")
	if err := fixtures.CreateWildfireMySQL(ctx, pure, opt); err != nil {
		t.Fatal(err)
	}
	if out, err := runCLI(t, "-q", "import", file, "--target", pureURL, "--profile", "wildfirechat-mysql"); err != nil {
		t.Fatalf("import --profile wildfirechat-mysql: %v\n%s", err, out)
	}
	sameTables(t, src, srcDB, pure, dbName(pureURL), counts)
	out, err = runCLI(t, "verify", file, "--against", pureURL, "--profile", "wildfirechat-mysql")
	if err != nil || strings.Count(out, ".t_messages/t_messages_") != 36 || strings.Count(out, ".t_user_messages/t_user_messages_") != 128 || !strings.Contains(out, "(128 member tables)") {
		t.Errorf("verify --against the pure-MySQL site: %v\n%s", err, out)
	}

	// Without a profile into an empty database: the member tables are
	// created from their DDL, each row back in its own.
	emptyURL, empty := testenv.MySQLDatabase(t, "wfl_empty")
	if out, err := runCLI(t, "-q", "import", file, "--target", emptyURL); err != nil {
		t.Fatalf("import without a profile: %v\n%s", err, out)
	}
	sameTables(t, src, srcDB, empty, dbName(emptyURL), counts)
	if out, err := runCLI(t, "-q", "verify", file, "--against", emptyURL); err != nil {
		t.Errorf("verify --against the database imported without a profile: %v\n%s", err, out)
	}

	// Into a hybrid site, and its export back into pure MySQL.
	hyURL, hy := testenv.MySQLDatabase(t, "wfl_hy")
	if err := fixtures.CreateWildfireMySQL(ctx, hy, opt); err != nil {
		t.Fatal(err)
	}
	hmURL, hm := testenv.MongoDatabase(t, "wfl_hy")
	args := []string{"--profile", "wildfirechat-hybrid", "--param", "ttl-indexes=skip"}
	if out, err := runCLI(t, append([]string{"-q", "import", file, "--target", hyURL, "--target", hmURL}, args...)...); err != nil {
		t.Fatalf("import into the hybrid site: %v\n%s", err, out)
	}
	for coll, fam := range map[string]string{"messages": "t_messages", "user_messages": "t_user_messages"} {
		n, err := hm.Collection(coll).CountDocuments(ctx, bson.D{})
		if err != nil || n != sums[fam] {
			t.Errorf("collection %s: %d documents (%v), want %d", coll, n, err, sums[fam])
		}
	}
	out, err = runCLI(t, "verify", file, "--against", hyURL, "--against", hmURL, "--profile", "wildfirechat-hybrid")
	if err != nil || !regexp.MustCompile(`match +\S+\.t_messages -> \S+\.messages: `+fmt.Sprint(sums["t_messages"])+` rows`).MatchString(out) {
		t.Fatalf("verify --against the hybrid site: %v\n%s", err, out)
	}
	hybrid := filepath.Join(dir, "hybrid.imb")
	if out, err := runCLI(t, "-q", "export", "--profile", "wildfirechat", "--source", hyURL, "--source", hmURL, "-o", hybrid); err != nil {
		t.Fatalf("export of the hybrid site: %v\n%s", err, out)
	}
	backURL, back := testenv.MySQLDatabase(t, "wfl_back")
	if err := fixtures.CreateWildfireMySQL(ctx, back, opt); err != nil {
		t.Fatal(err)
	}
	if out, err := runCLI(t, "-q", "import", hybrid, "--target", backURL, "--profile", "wildfirechat-mysql"); err != nil {
		t.Fatalf("import of the hybrid site into pure MySQL: %v\n%s", err, out)
	}
	sameTables(t, src, srcDB, back, dbName(backURL), counts)
	if out, err := runCLI(t, "-q", "verify", hybrid, "--against", backURL, "--profile", "wildfirechat-mysql"); err != nil {
		t.Errorf("verify the hybrid bundle --against the pure-MySQL site: %v\n%s", err, out)
	}
}

// TestWildfireLogicalRefusesDifferingShard: a shard whose column differs
// from the others' cannot be one of their logical dataset: export
// --profile wildfirechat exits 5 naming the shard and the column, and
// leaves no file.
func TestWildfireLogicalRefusesDifferingShard(t *testing.T) {
	ctx := context.Background()
	srcURL, src := testenv.MySQLDatabase(t, "wfl_bad")
	if _, _, err := fixtures.LoadWildfireMySQL(ctx, src, fixtures.WildfireOptions{Users: 10, Groups: 2, Messages: 50, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := src.ExecContext(ctx, "ALTER TABLE t_messages_7 MODIFY `_to` varchar(80) COLLATE utf8mb4_bin DEFAULT ''"); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "bad.imb")
	out, err := runCLI(t, "-q", "export", "--profile", "wildfirechat", "--source", srcURL, "-o", file)
	if exitCodeOf(err) != exitBadInput || !strings.Contains(err.Error(), ".t_messages_7") || !strings.Contains(err.Error(), "column _to") {
		t.Fatalf("export with a differing shard: %v (exit %d), want exit 5 naming t_messages_7 and _to\n%s", err, exitCodeOf(err), out)
	}
	for _, f := range []string{file, file + ".partial", file + ".partial-journal"} {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("%s left behind", f)
		}
	}
}

// sameTables compares every table of counts in two databases by CHECKSUM
// TABLE: the same rows in the same shards.
func sameTables(t *testing.T, a *sql.DB, adb string, b *sql.DB, bdb string, counts []fixtures.TableCount) {
	t.Helper()
	bad := 0
	for _, c := range counts {
		var name string
		var x, y sql.NullInt64
		if err := a.QueryRow("CHECKSUM TABLE `"+adb+"`.`"+c.Table+"`").Scan(&name, &x); err != nil {
			t.Fatal(err)
		}
		if err := b.QueryRow("CHECKSUM TABLE `"+bdb+"`.`"+c.Table+"`").Scan(&name, &y); err != nil {
			t.Fatal(err)
		}
		if x != y {
			if bad++; bad <= 5 {
				t.Errorf("table %s: checksum %v in %s, %v in %s", c.Table, x, adb, y, bdb)
			}
		}
	}
}
