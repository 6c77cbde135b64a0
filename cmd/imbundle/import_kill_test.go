package main

import (
	"context"
	"fmt"
	"maps"
	"math/rand"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/imbundle/imbundle/internal/testenv"
)

// The import fault harness: a fixture bundle of each engine is imported
// with the built binary into a fresh target, SIGKILLed at a seeded moment
// within an uninterrupted import's duration (every other round killed
// again while it resumes), and run again with the same command, which
// must exit 0 and leave the target equal to an uninterrupted import's:
// verify --against green, and the target read back with the engine's own
// client (row counts, CHECKSUM TABLE and the multiset of the table
// without a primary key; documents; keys and their content) equal, with
// no resume state left. Every fourth round imports with --mode replace
// onto a target that already holds other data: the bundle's objects must
// end as the bundle's, the others untouched. IMBUNDLE_TEST_IMPORT_KILLS
// rounds per engine (default 20 under CI=true, else 5), moments drawn
// with IMBUNDLE_TEST_KILL_SEED (default 1): a failing round can be run
// again.
func TestImportResumesAfterSIGKILL(t *testing.T) {
	bin := builtCLI(t)
	kills, seed := killRounds(t, "IMBUNDLE_TEST_IMPORT_KILLS"), envCount(t, "IMBUNDLE_TEST_KILL_SEED", 1)
	export := func(t *testing.T, source ...string) string {
		path := filepath.Join(t.TempDir(), "site.imb")
		args := append([]string{"export", "-q", "-o", path, "--part-size", "1", "-j", "2"}, source...)
		r := runExport(t, bin, 0, args...)
		if r.code != 0 {
			t.Fatalf("export of the fixture: exit %d\n%s", r.code, r.stderr)
		}
		t.Logf("exported the fixture in %s", r.took)
		return path
	}
	t.Run("mysql", func(t *testing.T) {
		path := export(t, "--source", resumeMySQLSource(t))
		importKillRounds(t, bin, path, mysqlKillTarget(
			"CREATE TABLE t1 (id INT PRIMARY KEY, v TEXT)",
			"INSERT INTO t1 SELECT seq, 'older' FROM seq_1_to_30000",
			"CREATE TABLE nopk (a INT, v VARCHAR(64))",
			"INSERT INTO nopk VALUES (1, 'older'), (1, 'older'), (NULL, NULL)"), kills, seed, true)
	})
	t.Run("mysql-objects", func(t *testing.T) {
		// Sakila's schema: foreign keys, triggers, views, routines, events
		// and a sequence, created by Finish after the rows; a quarter of
		// the rounds (at least 4: one with --mode replace) keep CI short.
		url, _ := testenv.MySQLDatabase(t, "clisak")
		if out, err := exec.Command(bin, "fixtures", "sakila", "--target", url, "--rentals", "4000").CombinedOutput(); err != nil {
			t.Fatalf("fixtures sakila: %v\n%s", err, out)
		}
		path := export(t, "--source", url)
		importKillRounds(t, bin, path, mysqlKillTarget(
			"CREATE TABLE language (language_id TINYINT UNSIGNED PRIMARY KEY, name CHAR(20))",
			"INSERT INTO language VALUES (1, 'older'), (200, 'older')"), max(4, kills/4), seed, true)
	})
	t.Run("mongodb", func(t *testing.T) {
		path := export(t, "--source", mongoKillSource(t))
		importKillRounds(t, bin, path, mongoKillTarget, kills, seed, true)
	})
	t.Run("redis", func(t *testing.T) {
		path := export(t, append([]string{"--source", "redis://" + testenv.RedisAddr()}, resumeRedisSource(t)...)...)
		// A Redis import keeps no per-part progress: a re-run replays
		// every part, each key written idempotently (importer/redis/load.go).
		importKillRounds(t, bin, path, redisKillTarget, kills, seed, false)
	})
}

// mongoKillSource is resumeMongoSource and a collection of three 1 MiB
// parts: its four collections are a part each, too few commit points for
// an import to be killed between.
func mongoKillSource(t *testing.T) string {
	url := resumeMongoSource(t)
	c, err := mongo.Connect(options.Client().ApplyURI(url))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect(context.Background())
	docs := make([]any, 0, 2600)
	for i := 0; i < 2600; i++ {
		docs = append(docs, bson.D{{Key: "_id", Value: i}, {Key: "v", Value: strings.Repeat(strconv.Itoa(i%10), 1200)}})
	}
	if _, err := c.Database(testDBName(url)).Collection("big").InsertMany(context.Background(), docs); err != nil {
		t.Fatal(err)
	}
	return url
}

// killTarget is a fresh target of one engine for a round of the harness.
type killTarget struct {
	url   string
	flags []string // after --target URL (and --against URL)
	// state reads the target independently (targetstate_test.go).
	state func() map[string]string
	// unfinished names the resume state an unfinished import left ("").
	unfinished func() string
	// occupy puts other data into the target: objects of the bundle's
	// names with other content, and bystanders the bundle does not name,
	// whose state keys it returns.
	occupy func() []string
}

// mysqlKillTarget makes fresh MySQL targets whose occupy runs conflicting
// (statements that fill tables of the bundle's names with other rows) and
// adds a bystander table.
func mysqlKillTarget(conflicting ...string) func(*testing.T) killTarget {
	return func(t *testing.T) killTarget {
		url, db := testenv.MySQLDatabase(t, "clikill")
		name := testDBName(url)
		return killTarget{
			url:        url,
			state:      func() map[string]string { return mysqlTableStates(t, db, name) },
			unfinished: func() string { return mysqlUnfinished(t, db, name) },
			occupy: func() []string {
				mustExecAll(t, db, conflicting...)
				mustExecAll(t, db,
					"CREATE TABLE bystander (id INT PRIMARY KEY, v TEXT)",
					"INSERT INTO bystander VALUES (1, 'kept'), (2, 'kept')")
				return []string{"bystander"}
			},
		}
	}
}

func mongoKillTarget(t *testing.T) killTarget {
	url, db := testenv.MongoDatabase(t, "clikill")
	return killTarget{
		url:        url,
		state:      func() map[string]string { return mongoCollectionStates(t, db) },
		unfinished: func() string { return mongoUnfinished(t, db.Client(), db.Name()) },
		occupy: func() []string {
			ctx := context.Background()
			var older []any
			for i := 500; i < 1500; i++ {
				older = append(older, bson.D{{Key: "_id", Value: i}, {Key: "older", Value: true}})
			}
			if _, err := db.Collection("c1").InsertMany(ctx, older); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Collection("bystander").InsertOne(ctx, bson.D{{Key: "_id", Value: 1}, {Key: "v", Value: "kept"}}); err != nil {
				t.Fatal(err)
			}
			return []string{"bystander"}
		},
	}
}

// redisKillDBs are the logical databases a Redis round imports into (the
// fixture's databases 1 to 4, mapped), and redisBystanderDB one it does
// not: a Redis dataset is a whole database, which verify --against
// compares key for key, and --mode replace replaces the bundle's keys
// only (SPEC.md §8), so the data a replace must leave alone is there.
var redisKillDBs = []int{5, 6, 7, 8}

const redisBystanderDB = 9

func redisKillTarget(t *testing.T) killTarget {
	ctx := context.Background()
	addr := testenv.RedisAddr()
	tg := killTarget{url: "redis://" + addr}
	for i, db := range redisKillDBs {
		tg.flags = append(tg.flags, "--db-map", fmt.Sprintf("%d:%d", i+1, db))
	}
	all := append([]int{redisBystanderDB}, redisKillDBs...)
	for _, db := range all {
		c := testenv.Redis(t, db)
		if err := c.FlushDB(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.FlushDB(context.Background()) })
	}
	tg.state = func() map[string]string { return redisKeyStates(t, addr, all) }
	tg.unfinished = func() string { return redisUnfinished(t, addr, redisKillDBs) }
	tg.occupy = func() []string {
		c := testenv.Redis(t, redisKillDBs[0])
		p := c.Pipeline()
		for i := 0; i < 2000; i++ {
			k := fmt.Sprintf("k:1:%d", i)
			if i%2 == 0 {
				p.RPush(ctx, k, "older", "values") // a hash or string in the bundle
			} else {
				p.Set(ctx, k, "older", time.Hour)
			}
		}
		if _, err := p.Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if err := testenv.Redis(t, redisBystanderDB).Set(ctx, "bystander:1", "kept", 0).Err(); err != nil {
			t.Fatal(err)
		}
		return []string{fmt.Sprintf("db %d bystander", redisBystanderDB)}
	}
	return tg
}

// importKillRounds runs the harness's rounds for one engine. resumes:
// the engine keeps per-part progress, so some re-run must report resumed
// parts; otherwise some re-run must have found an unfinished import (its
// resume state) and finished it.
func importKillRounds(t *testing.T, bin, path string, target func(*testing.T) killTarget, kills, seed int, resumes bool) {
	argsFor := func(tg killTarget, extra ...string) []string {
		args := append([]string{"import", "-q", path, "--target", tg.url, "-j", "2"}, tg.flags...)
		return append(args, extra...)
	}
	verifyAgainst := func(t *testing.T, tg killTarget) error {
		out, err := exec.Command(bin, append([]string{"verify", path, "--against", tg.url}, tg.flags...)...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%v\n%s", err, out)
		}
		return nil
	}
	ref := target(t)
	r := runExport(t, bin, 0, argsFor(ref)...)
	if r.code != 0 {
		t.Fatalf("uninterrupted import: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if err := verifyAgainst(t, ref); err != nil {
		t.Fatalf("verify --against after an uninterrupted import: %v", err)
	}
	want := ref.state()
	if len(want) < 4 {
		t.Fatalf("an uninterrupted import left %v: the harness needs several objects", want)
	}
	// The first run pays for cold caches: the kill moments are drawn
	// within the faster of it and a second one.
	span := r.took
	if again := runExport(t, bin, 0, argsFor(target(t))...); again.code == 0 {
		span = min(span, again.took)
	}
	t.Logf("an uninterrupted import takes %s", span)
	rng := rand.New(rand.NewSource(int64(seed)))
	var interrupted, unfinishedSeen, resumed, already int
	// Where the rounds' time goes, for whoever has to keep CI fast.
	var inKilled, inReruns, inVerify, inChecks time.Duration
	timed := func(d *time.Duration) func() {
		start := time.Now()
		return func() { *d += time.Since(start) }
	}
	for i := 1; i <= kills; i++ {
		replace := i%4 == 0
		delays := []time.Duration{time.Duration(rng.Int63n(int64(span)) + 1)}
		if i%2 == 0 {
			delays = append(delays, time.Duration(rng.Int63n(int64(span))+1))
		}
		ok := t.Run("round "+strconv.Itoa(i), func(t *testing.T) {
			tg := target(t)
			expect := maps.Clone(want)
			var extra []string
			var occupied map[string]string
			rollback := filepath.Join(t.TempDir(), "rollback.imb")
			mode := "fail"
			if replace {
				mode = "replace"
				bystanders := tg.occupy()
				occupied = tg.state()
				for _, b := range bystanders {
					expect[b] = occupied[b]
				}
				extra = []string{"--mode", "replace", "--rollback-out", rollback}
			}
			args := argsFor(tg, extra...)
			var log []string
			var r exportRun
			for _, d := range delays {
				if r.killed {
					if u := tg.unfinished(); u != "" {
						unfinishedSeen++
					}
				}
				r = runExport(t, bin, d, args...)
				inKilled += r.took
				log = append(log, fmt.Sprintf("SIGKILL at %s: killed %v, exit %d", d, r.killed, r.code))
				if !r.killed {
					break // it ended first: it must have ended right
				}
				interrupted++
			}
			if r.killed {
				if u := tg.unfinished(); u != "" {
					unfinishedSeen++
				}
				r = runExport(t, bin, 0, args...)
				inReruns += r.took
			}
			round := fmt.Sprintf("round %d (seed %d, --mode %s; %s)", i, seed, mode, strings.Join(log, "; "))
			if r.code != 0 {
				t.Fatalf("%s: the re-run exited %d\n%s%s", round, r.code, r.stdout, r.stderr)
			}
			if regexpResumed.MatchString(r.stdout) {
				resumed++
			}
			if strings.Contains(r.stdout+r.stderr, "already imported") {
				already++
			}
			done := timed(&inVerify)
			if err := verifyAgainst(t, tg); err != nil {
				t.Errorf("%s: verify --against: %v", round, err)
			}
			done()
			done = timed(&inChecks)
			got := tg.state()
			done()
			if d := diffStates(got, expect); d != "" {
				t.Errorf("%s: the target differs from an uninterrupted import's: %s\n%s%s", round, d, r.stdout, r.stderr)
			}
			if u := tg.unfinished(); u != "" {
				t.Errorf("%s: a finished import left its resume state: %s", round, u)
			}
			if replace {
				// The rollback bundle a resumed replace keeps must be of
				// the target before the first run, not of what the killed
				// run had half replaced.
				if out, err := exec.Command(bin, "rollback", "-q", rollback, "--target", tg.url).CombinedOutput(); err != nil {
					t.Fatalf("%s: rollback: %v\n%s", round, err, out)
				}
				if d := diffStates(tg.state(), occupied); d != "" {
					t.Errorf("%s: rolled back, the target differs from its state before the import: %s", round, d)
				}
			}
		})
		if !ok {
			break
		}
	}
	t.Logf("%d rounds, %d SIGKILLs interrupted an import (of about %s); %d re-runs started on an unfinished import, %d resumed committed parts, %d found the bundle already imported",
		kills, interrupted, span, unfinishedSeen, resumed, already)
	t.Logf("time in killed runs %s, in re-runs %s, in verify --against %s, in reading the targets %s", inKilled.Round(time.Millisecond), inReruns.Round(time.Millisecond), inVerify.Round(time.Millisecond), inChecks.Round(time.Millisecond))
	if kills >= 10 && resumes && resumed == 0 {
		t.Errorf("no re-run resumed a committed part: the harness never exercised a resume")
	}
	if kills >= 10 && !resumes && unfinishedSeen == 0 {
		t.Errorf("no re-run started on an unfinished import: the harness never exercised a resume")
	}
}
