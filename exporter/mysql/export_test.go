package mysql_test

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/exporter"
	_ "github.com/imbundle/imbundle/exporter/mysql"
	"github.com/imbundle/imbundle/fixtures"
	"github.com/imbundle/imbundle/internal/mysqltype"
	"github.com/imbundle/imbundle/internal/testenv"
	"github.com/imbundle/imbundle/spec"
)

// exportBundle exports url into a bundle in t.TempDir and returns its path.
func exportBundle(t testing.TB, url string, opts exporter.Options) string {
	t.Helper()
	ctx := context.Background()
	p := map[string]string{"lock-wait": "2"} // do not wait long behind other tests' statements
	for k, v := range opts.Params {
		p[k] = v
	}
	opts.Params = p
	src, err := exporter.Open(ctx, url, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	path := filepath.Join(t.TempDir(), "b.imb")
	w, err := bundle.Create(path, bundle.Options{Tool: spec.Tool{Name: "test", Version: "0"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := exporter.Export(ctx, []exporter.Source{src}, w, 2); err != nil {
		w.Abort()
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// readAll returns the dataset's rows as one record per part, and the schema.
func readAll(t *testing.T, r *bundle.Reader, name string) (*spec.Dataset, []arrow.RecordBatch) {
	t.Helper()
	ds, ok := r.Dataset(name)
	if !ok {
		t.Fatalf("dataset %s not in bundle", name)
	}
	var out []arrow.RecordBatch
	if err := r.EachRecord(ds, func(rec arrow.RecordBatch) error {
		rec.Retain()
		out = append(out, rec)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return ds, out
}

func column(t *testing.T, rec arrow.RecordBatch, name string) arrow.Array {
	t.Helper()
	idx := rec.Schema().FieldIndices(name)
	if len(idx) != 1 {
		t.Fatalf("no column %s", name)
	}
	return rec.Column(idx[0])
}

func TestExportTypeEdges(t *testing.T) {
	url, db := testenv.MySQLDatabase(t, "exp")
	if err := fixtures.MySQLEdgeTypes(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	path := exportBundle(t, url, exporter.Options{})
	r, err := bundle.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	dbName := url[strings.LastIndex(url, "/")+1:]
	ds, recs := readAll(t, r, dbName+".type_edges")
	if len(recs) != 1 || recs[0].NumRows() != 7 {
		t.Fatalf("want one batch of 7 rows, got %d batches", len(recs))
	}
	rec := recs[0]
	if got := strings.Join(ds.PrimaryKey, ","); got != "id" {
		t.Errorf("primary key %q", got)
	}
	if !strings.HasPrefix(ds.DDL, "CREATE TABLE `type_edges`") || !strings.Contains(ds.DDL, "AUTO_INCREMENT=8") {
		t.Errorf("DDL: %.200s", ds.DDL)
	}

	// The Arrow type of every column.
	wantTypes := map[string]string{
		"id": "int32", "i8": "int8", "u8": "uint8", "i16": "int16", "u16": "uint16", "i24": "int32", "u24": "uint32",
		"i32": "int32", "u32": "uint32", "i64": "int64", "u64": "uint64",
		"dec65": "decimal256(65, 30)", "dec38": "decimal(38, 10)", "dec5": "decimal(5, 2)",
		"f32": "float32", "f64": "float64", "d": "date32", "d#raw": "large_utf8",
		"dt": "timestamp[us]", "dt0": "timestamp[s]", "ts": "timestamp[us, tz=UTC]", "tm": "duration[us]", "y": "uint16",
		"c": "large_utf8", "vc": "large_utf8", "tx": "large_utf8", "mb3": "large_utf8", "l1": "large_binary", "l1t": "large_binary",
		"bn": "large_binary", "vb": "large_binary", "bl": "large_binary", "b1": "uint64", "b64": "uint64",
		"e": "large_utf8", "s": "large_utf8", "j": "large_utf8", "gen_s": "large_utf8", "gen_v": "int64",
	}
	cols := map[string]spec.Column{}
	for _, c := range ds.Columns {
		cols[c.Name] = c
	}
	for name, typ := range wantTypes {
		c, ok := cols[name]
		if !ok {
			t.Errorf("column %s missing", name)
			continue
		}
		if c.Type != typ {
			t.Errorf("column %s is %s, want %s", name, c.Type, typ)
		}
	}
	if len(cols) != len(wantTypes)+3 { // dt#raw, dt0#raw, ts#raw
		t.Errorf("%d columns, want %d", len(cols), len(wantTypes)+3)
	}
	// Field metadata: native type, charset, generated, JSON, raw companion.
	meta := []struct{ col, key, want string }{
		{"u64", "", "bigint(20) unsigned"},
		{"l1", mysqltype.MetaCharset, "latin1"},
		{"vc", mysqltype.MetaCollation, "utf8mb4_bin"},
		{"gen_s", mysqltype.MetaGenerated, "STORED"},
		{"gen_v", mysqltype.MetaGenerated, "VIRTUAL"},
		{"j", mysqltype.MetaJSON, "true"},
		{"d", mysqltype.MetaRawColumn, "d#raw"},
		{"d#raw", mysqltype.MetaRawOf, "d"},
		{"id", mysqltype.MetaExtra, "auto_increment"},
	}
	for _, m := range meta {
		c := cols[m.col]
		got := c.Metadata[m.key]
		if m.key == "" {
			got = c.Native
		}
		if got != m.want {
			t.Errorf("column %s metadata %q = %q, want %q", m.col, m.key, got, m.want)
		}
	}

	// FLOAT bits exact, through the binary protocol.
	f32 := column(t, rec, "f32").(*array.Float32)
	for row, want := range map[int]float32{0: -math.MaxFloat32, 1: math.MaxFloat32, 2: math.SmallestNonzeroFloat32, 3: 1.17549435e-38, 4: 0.1} {
		if math.Float32bits(f32.Value(row)) != math.Float32bits(want) {
			t.Errorf("f32 row %d = %g (%08x), want %g", row, f32.Value(row), math.Float32bits(f32.Value(row)), want)
		}
	}
	if v := f32.Value(5); v != 0 || !math.Signbit(float64(v)) {
		t.Errorf("f32 row 6 = %g, want the stored -0 (the server sends it as +0)", v)
	}
	f64 := column(t, rec, "f64").(*array.Float64)
	if f64.Value(1) != math.MaxFloat64 || f64.Value(2) != math.SmallestNonzeroFloat64 || f64.Value(5) != 1.0/3.0 {
		t.Errorf("f64 values %v", f64)
	}
	// Unsigned and decimal extremes.
	if v := column(t, rec, "u64").(*array.Uint64).Value(1); v != math.MaxUint64 {
		t.Errorf("u64 max = %d", v)
	}
	if v := column(t, rec, "b64").(*array.Uint64).Value(3); v != 0x0123456789abcdef {
		t.Errorf("b64 = %x", v)
	}
	d65 := column(t, rec, "dec65").(*array.Decimal256)
	if got := d65.Value(0).BigInt().String(); got != "-"+strings.Repeat("9", 65) {
		t.Errorf("dec65 min unscaled = %s", got)
	}
	// Zero and partial dates: typed NULL, raw text in the companion; real
	// dates the other way round.
	d, draw := column(t, rec, "d").(*array.Date32), column(t, rec, "d#raw").(*array.LargeString)
	if !d.IsNull(2) || draw.Value(2) != "0000-00-00" || !d.IsNull(3) || draw.Value(3) != "2024-00-10" {
		t.Errorf("zero/partial DATE: %v / %v", d, draw)
	}
	if d.IsNull(0) || d.Value(0).FormattedString() != "1000-01-01" || draw.IsValid(0) {
		t.Errorf("real DATE row 0: %v / %v", d, draw)
	}
	dt, dtraw := column(t, rec, "dt").(*array.Timestamp), column(t, rec, "dt#raw").(*array.LargeString)
	if !dt.IsNull(3) || dtraw.Value(3) != "2024-02-00 10:20:30.123456" {
		t.Errorf("partial DATETIME: %v / %v", dt, dtraw)
	}
	if got := dt.Value(1); int64(got) != 253402300799999999 {
		t.Errorf("DATETIME max = %d us", got)
	}
	if ts := column(t, rec, "ts").(*array.Timestamp); int64(ts.Value(0)) != 1000000 {
		t.Errorf("TIMESTAMP '1970-01-01 00:00:01' UTC = %d us", ts.Value(0))
	}
	if tm := column(t, rec, "tm").(*array.Duration); int64(tm.Value(0)) != -3020399000000 || int64(tm.Value(2)) != -1 {
		t.Errorf("TIME = %v", tm)
	}
	// Bytes as stored: latin1 bytes invalid in UTF-8, all 256 byte values.
	if got := column(t, rec, "l1").(*array.LargeBinary).Value(2); string(got) != "\xe9\xff\x80\x81\x8d\x8f\x90\x9d" {
		t.Errorf("latin1 bytes %x", got)
	}
	vb := column(t, rec, "vb").(*array.LargeBinary).Value(1)
	for i := 0; i < 256; i++ {
		if len(vb) != 256 || vb[i] != byte(i) {
			t.Fatalf("VARBINARY all bytes: %x", vb)
		}
	}
	if got := column(t, rec, "c").(*array.LargeString).Value(1); got != "😀𝄞 four-byte" {
		t.Errorf("utf8mb4 = %q", got)
	}
	// Row 7 is NULL in every column but the key.
	for c := 1; c < int(rec.NumCols()); c++ {
		if rec.Column(c).IsValid(6) {
			t.Errorf("row 7 column %s is not NULL", rec.ColumnName(c))
		}
	}

	_, dups := readAll(t, r, dbName+".no_pk_dups")
	var n int64
	for _, rec := range dups {
		n += rec.NumRows()
	}
	if n != 6 {
		t.Errorf("no_pk_dups: %d rows, want 6 (duplicates kept)", n)
	}
	if ds, _ := r.Dataset(dbName + ".no_pk_dups"); len(ds.PrimaryKey) != 0 {
		t.Errorf("no_pk_dups primary key %v", ds.PrimaryKey)
	}
}

// TestExportSnapshot checks that rows written after Describe are not read:
// every table is read as of the snapshot Describe opened.
func TestExportSnapshot(t *testing.T) {
	// Two readers block commits while their snapshots start; a small
	// MariaDB database is read through one, which needs no lock.
	for _, tc := range []struct{ readers, lock, connections string }{
		{"2", "BACKUP STAGE BLOCK_COMMIT", "2"},
		{"", "none", "1"},
	} {
		t.Run("readers="+tc.readers, func(t *testing.T) {
			testExportSnapshot(t, tc.readers, tc.lock, tc.connections)
		})
	}
}

func testExportSnapshot(t *testing.T, readers, lock, connections string) {
	url, db := testenv.MySQLDatabase(t, "snap")
	for _, q := range []string{
		"CREATE TABLE a (id INT PRIMARY KEY, v INT)",
		"CREATE TABLE b (id INT PRIMARY KEY, v INT)",
		"INSERT INTO a VALUES (1, 1), (2, 2)",
		"INSERT INTO b VALUES (1, 1)",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	params := map[string]string{"lock-wait": "2"}
	if readers != "" {
		params["readers"] = readers
	}
	src, err := exporter.Open(ctx, url, exporter.Options{Params: params, Jobs: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	desc, err := src.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if desc.Source.Settings["flavor"] != "mariadb" && readers == "" {
		t.Skip("MySQL reports no binlog position without the lock: it keeps it")
	}
	snap := desc.Source.Snapshot
	if snap["consistent"] != "true" || snap["connections"] != connections || snap["lock"] != lock {
		t.Errorf("snapshot %v, want %s connection(s) and lock %q", snap, connections, lock)
	}
	for _, q := range []string{"INSERT INTO a VALUES (3, 3)", "UPDATE b SET v = 9", "INSERT INTO b VALUES (2, 2)"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]int64{"a": 2, "b": 1}
	for _, d := range desc.Datasets {
		var rows int64
		err := src.Read(ctx, &d.Spec, func(rec arrow.RecordBatch) error {
			rows += rec.NumRows()
			if d.Spec.Object == "b" {
				if v := column(t, rec, "v").(*array.Int32).Value(0); v != 1 {
					t.Errorf("b.v = %d, want the snapshot's 1", v)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if rows != want[d.Spec.Object] {
			t.Errorf("%s: read %d rows, want %d as of the snapshot", d.Spec.Object, rows, want[d.Spec.Object])
		}
	}
}

// TestExportCredentials exports as a user with a password and no RELOAD
// privilege: the password reaches neither manifest nor errors, and the
// export falls back to one snapshot connection with a note.
func TestExportCredentials(t *testing.T) {
	url, db := testenv.MySQLDatabase(t, "cred")
	dbName := url[strings.LastIndex(url, "/")+1:]
	user, pass := testenv.Name("u"), "S3cret-"+testenv.Name("pw")
	for _, q := range []string{
		"CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))",
		"INSERT INTO t VALUES (1, 'a')",
		"CREATE USER '" + user + "'@'%' IDENTIFIED BY '" + pass + "'",
		"GRANT SELECT, SHOW VIEW ON `" + dbName + "`.* TO '" + user + "'@'%'",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { db.Exec("DROP USER '" + user + "'@'%'") })
	host := strings.TrimPrefix(url, "mysql://")
	host = host[strings.Index(host, "@")+1:]
	userURL := "mysql://" + user + ":" + pass + "@" + host
	// Two readers asked for: their snapshots need commits blocked, which
	// this user may not do.
	path := exportBundle(t, userURL, exporter.Options{Params: map[string]string{"readers": "2"}})
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), pass) {
		t.Fatal("the password is in the bundle")
	}
	r, err := bundle.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	m := r.Manifest()
	if u := m.Sources[0].URL; strings.Contains(u, user) || strings.Contains(u, "@") {
		t.Errorf("source URL %q holds user info", u)
	}
	if m.Sources[0].Snapshot["connections"] != "1" || len(m.Notes) == 0 || !strings.Contains(strings.Join(m.Notes, " "), "single snapshot connection") {
		t.Errorf("no-RELOAD fallback not recorded: snapshot %v notes %q", m.Sources[0].Snapshot, m.Notes)
	}
	if m.Datasets[0].Rows != 1 {
		t.Errorf("rows %d", m.Datasets[0].Rows)
	}
	// A wrong password: the error names the server, never the password.
	bad := "mysql://" + user + ":wrong-" + pass + "@" + host
	if _, err := exporter.Open(context.Background(), bad, exporter.Options{}); err == nil || strings.Contains(err.Error(), pass) {
		t.Errorf("bad password error: %v", err)
	}
}

// TestExportRelations records foreign keys and --param relations.
func TestExportRelations(t *testing.T) {
	url, db := testenv.MySQLDatabase(t, "rel")
	dbName := url[strings.LastIndex(url, "/")+1:]
	for _, q := range []string{
		"CREATE TABLE users (id VARCHAR(64) PRIMARY KEY)",
		"CREATE TABLE grp (gid INT, uid VARCHAR(64), PRIMARY KEY (gid, uid), CONSTRAINT fk_u FOREIGN KEY (uid) REFERENCES users (id))",
		"CREATE TABLE logs (id INT PRIMARY KEY, user_id VARCHAR(64))",
		"CREATE VIEW v AS SELECT id FROM users",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	path := exportBundle(t, url, exporter.Options{Params: map[string]string{"relations": "logs(user_id)->users(id)"}})
	r, err := bundle.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	m := r.Manifest()
	var got []string
	for _, rel := range m.Relations {
		got = append(got, rel.Name+":"+rel.From.Dataset+"("+strings.Join(rel.From.Columns, ",")+")->"+rel.To.Dataset+"("+strings.Join(rel.To.Columns, ",")+"):"+rel.Origin)
	}
	want := []string{
		"fk_u:" + dbName + ".grp(uid)->" + dbName + ".users(id):declared",
		":" + dbName + ".logs(user_id)->" + dbName + ".users(id):declared",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("relations\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The view is a schema object now (SPEC.md §7.7), not a dataset.
	if len(m.Datasets) != 3 || len(m.Objects) != 1 || m.Objects[0].Kind != spec.ObjectView || m.Objects[0].Name != "v" {
		t.Errorf("datasets %d, objects %+v", len(m.Datasets), m.Objects)
	}
	for _, bad := range []string{"logs(nope)->users(id)", "logs(user_id)->ghost(id)", "logs(user_id)"} {
		src, err := exporter.Open(context.Background(), url, exporter.Options{Params: map[string]string{"relations": bad, "lock-wait": "2"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := src.Describe(context.Background()); err == nil {
			t.Errorf("relations %q accepted", bad)
		}
		src.Close()
	}
}

// TestExportTablesOption exports only the tables asked for, and refuses an
// unknown one by name.
func TestExportTablesOption(t *testing.T) {
	url, db := testenv.MySQLDatabase(t, "opt")
	mustExec(t, db, "CREATE TABLE keep (id INT PRIMARY KEY)", "CREATE TABLE skip (id INT PRIMARY KEY)")
	path := exportBundle(t, url, exporter.Options{Filter: &exporter.Filter{Include: []string{"keep"}}})
	r, err := bundle.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if ds := r.Manifest().Datasets; len(ds) != 1 || ds[0].Object != "keep" {
		t.Errorf("datasets %+v", ds)
	}
	ghost := &exporter.Filter{Include: []string{"ghost"}}
	src, err := exporter.Open(context.Background(), url, exporter.Options{Filter: ghost})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if _, err := src.Describe(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := ghost.Unmatched(); err == nil || !strings.Contains(err.Error(), "--tables ghost: no such table") {
		t.Errorf("unknown table: %v", err)
	}
}

// TestExportMissingDatabase: a database that does not exist is an error
// naming it, never an empty bundle; so is one named in --tables.
func TestExportMissingDatabase(t *testing.T) {
	url, _ := testenv.MySQLDatabase(t, "exists")
	ghost := testenv.Name("ghost")
	base := url[:strings.LastIndex(url, "/")]
	for _, c := range []struct {
		url     string
		objects []string
	}{{base + "/" + ghost, nil}, {base, []string{ghost + ".t"}}} {
		// The server refuses a connection to a missing database (1049);
		// one named only in --tables is looked up.
		src, err := exporter.Open(context.Background(), c.url, exporter.Options{Filter: &exporter.Filter{Include: c.objects}})
		if err == nil {
			_, err = src.Describe(context.Background())
			src.Close()
		}
		if err == nil || !strings.Contains(err.Error(), ghost) || !strings.Contains(err.Error(), "does not exist") && !strings.Contains(err.Error(), "Unknown database") {
			t.Errorf("export of %s %v: %v, want an error naming the missing database", c.url, c.objects, err)
		}
	}
}

func mustExec(t *testing.T, db *sql.DB, qs ...string) {
	t.Helper()
	for _, q := range qs {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// TestExportDiscoversRelations infers the references a schema does not
// declare from column names, and keeps those the data confirms.
func TestExportDiscoversRelations(t *testing.T) {
	url, db := testenv.MySQLDatabase(t, "disc")
	dbName := url[strings.LastIndex(url, "/")+1:]
	mustExec(t, db,
		"CREATE TABLE users (user_id VARCHAR(64) PRIMARY KEY, name VARCHAR(20))",
		"CREATE TABLE `groups` (id INT PRIMARY KEY, owner_user_id VARCHAR(64))",
		"CREATE TABLE members (group_id INT, user_id VARCHAR(64), inviter_user_id VARCHAR(64), PRIMARY KEY (group_id, user_id))",
		// user_id is an integer here (not users' text key); about_user_id
		// mostly names no user.
		"CREATE TABLE notes (id INT PRIMARY KEY, user_id INT, about_user_id VARCHAR(64))",
		"INSERT INTO `groups` VALUES (1, 'u1'), (2, 'u2'), (3, NULL)",
		"INSERT INTO notes VALUES (1, 1, 'u1'), (2, 2, 'x'), (3, 3, 'y')",
	)
	for i := 1; i <= 30; i++ {
		mustExec(t, db, fmt.Sprintf("INSERT INTO users VALUES ('u%d', 'n')", i),
			fmt.Sprintf("INSERT INTO members VALUES (%d, 'u%d', 'u1')", 1+i%2, i))
	}
	// A membership of a deleted user: 1 orphan in 31 values is kept.
	mustExec(t, db, "INSERT INTO members VALUES (1, 'deleted', NULL)")

	relations := func(params map[string]string) []string {
		r, err := bundle.Open(exportBundle(t, url, exporter.Options{Params: params}))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		var got []string
		for _, rel := range r.Manifest().Relations {
			s := strings.TrimPrefix(rel.From.Dataset, dbName+".") + "(" + strings.Join(rel.From.Columns, ",") + ")->" +
				strings.TrimPrefix(rel.To.Dataset, dbName+".") + "(" + strings.Join(rel.To.Columns, ",") + "):" + rel.Origin
			if rel.Checked != nil {
				s += fmt.Sprintf(" %d/%d", rel.Checked.Orphans, rel.Checked.Values)
			}
			got = append(got, s)
		}
		return got
	}
	want := []string{
		"groups(owner_user_id)->users(user_id):discovered 0/2",
		"members(group_id)->groups(id):discovered 0/31",
		"members(inviter_user_id)->users(user_id):discovered 0/30",
		"members(user_id)->users(user_id):discovered 1/31",
	}
	if got := relations(nil); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("discovered\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A declared edge is not discovered again; discovery can be turned off.
	got := relations(map[string]string{"relations": "members(user_id)->users(user_id)", "discover-relations": "false"})
	if strings.Join(got, "\n") != "members(user_id)->users(user_id):declared" {
		t.Errorf("declared only: %q", got)
	}
	got = relations(map[string]string{"relations": "members(user_id)->users(user_id)"})
	if len(got) != 4 || got[0] != "members(user_id)->users(user_id):declared" || strings.Contains(strings.Join(got[1:], " "), "members(user_id)") {
		t.Errorf("declared and discovered: %q", got)
	}
}
