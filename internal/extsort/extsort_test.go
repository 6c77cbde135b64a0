package extsort

import (
	"bytes"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

type kv struct{ k, v string }

func drain(t *testing.T, s *Sorter) []kv {
	t.Helper()
	it, err := s.Sort()
	if err != nil {
		t.Fatal(err)
	}
	var out []kv
	for {
		k, v, err := it.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, kv{string(k), string(v)})
	}
}

func runFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "imbundle-sort-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Many spilled runs (more than one merge pass), duplicate keys in input
// order, the same result as a stable in-memory sort, and no file left.
func TestSpillsOrderDuplicates(t *testing.T) {
	for _, budget := range []int64{0, 1 << 30} { // 0: the 1 MiB minimum, many runs
		t.Run(fmt.Sprint(budget), func(t *testing.T) {
			defer func(n int) { maxFanIn = n }(maxFanIn)
			maxFanIn = 8
			dir := t.TempDir()
			s := New(dir, budget)
			rnd := rand.New(rand.NewSource(1))
			var want []kv
			for i := 0; i < 200000; i++ {
				k := fmt.Sprintf("key%05d", rnd.Intn(30000))
				v := fmt.Sprintf("v%d-%s", i, bytes.Repeat([]byte("x"), rnd.Intn(300)))
				want = append(want, kv{k, v})
				if err := s.Add([]byte(k), []byte(v)); err != nil {
					t.Fatal(err)
				}
			}
			sort.SliceStable(want, func(i, j int) bool { return want[i].k < want[j].k })
			got := drain(t, s)
			if budget == 0 && s.Runs() <= maxFanIn {
				t.Fatalf("%d runs: the test means to merge in more than one pass", s.Runs())
			}
			if budget != 0 && s.Runs() != 0 {
				t.Fatalf("%d runs spilled under a budget that holds everything", s.Runs())
			}
			if len(got) != len(want) {
				t.Fatalf("%d records back, want %d", len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("record %d: %v, want %v", i, got[i], want[i])
				}
			}
			if budget == 0 && len(runFiles(t, dir)) == 0 {
				t.Fatal("no run file while reading: nothing was spilled")
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if f := runFiles(t, dir); len(f) != 0 {
				t.Fatalf("files left after Close: %v", f)
			}
		})
	}
}

func TestEmptyAndBinaryKeys(t *testing.T) {
	s := New(t.TempDir(), 0)
	defer s.Close()
	if got := drain(t, s); len(got) != 0 {
		t.Fatalf("%v from an empty sorter", got)
	}
	s2 := New(t.TempDir(), 0)
	defer s2.Close()
	for _, k := range []string{"b\x00", "", "a", "b", "\xff", "b\x00\x01"} {
		s2.Add([]byte(k), nil)
	}
	var keys []string
	for _, r := range drain(t, s2) {
		keys = append(keys, r.k)
	}
	want := []string{"", "a", "b", "b\x00", "b\x00\x01", "\xff"}
	if fmt.Sprintf("%q", keys) != fmt.Sprintf("%q", want) {
		t.Fatalf("order %q, want %q", keys, want)
	}
}

// A spill that fails is an error, a run cut short is an error on read,
// and Close still removes every run written.
func TestCleanupOnError(t *testing.T) {
	dir := t.TempDir()
	s := New(dir, 0)
	val := bytes.Repeat([]byte("v"), 1000)
	for i := 0; s.Runs() < 2; i++ {
		if err := s.Add([]byte(fmt.Sprint(i)), val); err != nil {
			t.Fatal(err)
		}
	}
	s.dir = filepath.Join(dir, "missing") // the next spill cannot create its file
	var err error
	for i := 0; i < 3000 && err == nil; i++ {
		err = s.Add([]byte(fmt.Sprint(i)), val)
	}
	if err == nil {
		t.Fatal("no error from a spill into a missing directory")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if f := runFiles(t, dir); len(f) != 0 {
		t.Fatalf("files left after Close: %v", f)
	}

	s = New(dir, 0)
	for i := 0; s.Runs() < 2; i++ {
		s.Add([]byte(fmt.Sprint(i)), val)
	}
	if err := os.Truncate(s.runs[0], 5000); err != nil {
		t.Fatal(err)
	}
	it, err := s.Sort()
	for err == nil {
		_, _, err = it.Next()
	}
	if err == io.EOF {
		t.Fatal("a truncated run read to the end without an error")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if f := runFiles(t, dir); len(f) != 0 {
		t.Fatalf("files left after Close: %v", f)
	}
}

// After a spill the buffer keeps its capacity but no record: the spilled
// arenas must be garbage, or memory grows past the budget by one run.
func TestSpillDropsRecords(t *testing.T) {
	s := New(t.TempDir(), 0)
	defer s.Close()
	for i := 0; s.Runs() == 0; i++ {
		s.Add([]byte(fmt.Sprint(i)), bytes.Repeat([]byte("v"), 100))
	}
	for i, r := range s.buf[len(s.buf):cap(s.buf)] {
		if r.key != nil || r.val != nil {
			t.Fatalf("spare slot %d still holds a spilled record", i)
		}
	}
}
