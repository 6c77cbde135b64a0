package enginetest

import (
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Kill rounds: IMBUNDLE_TEST_KILLS (default 5) SIGKILLs per engine, at
// delays drawn with the seed IMBUNDLE_TEST_KILL_SEED (default 1), so that
// a failing kill point can be run again.
const (
	defaultKills    = 5
	defaultKillSeed = 1
)

// testResumeAfterFailure: an import that fails after n parts (the next
// one half-written), run again with the same command, ends with exactly
// the source, exit 0 and no rejects.
func (s *suite) testResumeAfterFailure(t *testing.T, n int) {
	target := s.h.NewTarget(t)
	ImportFailing(t, s.bundle, target, s.h.Map(s.source, target), n)
	rejects := filepath.Join(t.TempDir(), "rejects.jsonl")
	r := s.cli.Run(t, s.importArgs(target, rejects)...)
	requireNoRejects(t, r, rejects)
	s.dumpSame(t, "target after the re-run", target, s.want)
}

// testResumeAfterKill: an import SIGKILLed at a random moment, run again
// with the same command, ends with exactly the source, exit 0 and no
// rejects. The moments are drawn within the duration of an uninterrupted
// import.
func (s *suite) testResumeAfterKill(t *testing.T) {
	s.sub(t, "Resume/AfterKill", func(t *testing.T) {
		kills := envInt(t, "IMBUNDLE_TEST_KILLS", defaultKills)
		seed := envInt(t, "IMBUNDLE_TEST_KILL_SEED", defaultKillSeed)
		span := s.importTook
		if span == 0 {
			// Import/ModeFail did not measure it: measure here, in a
			// subtest of its own so that its target goes at once.
			t.Run("measure", func(t *testing.T) {
				target := s.h.NewTarget(t)
				rejects := filepath.Join(t.TempDir(), "rejects.jsonl")
				r := s.cli.Run(t, s.importArgs(target, rejects)...)
				requireNoRejects(t, r, rejects)
				span = r.Took
			})
			if span == 0 {
				t.Fatal("no uninterrupted import to measure the kill moments by")
			}
		}
		rng := rand.New(rand.NewSource(int64(seed)))
		interrupted := 0
		for i := 1; i <= kills; i++ {
			delay := time.Duration(rng.Int63n(int64(span)))
			t.Run("kill_"+strconv.Itoa(i), func(t *testing.T) {
				target := s.h.NewTarget(t)
				rejects := filepath.Join(t.TempDir(), "rejects.jsonl")
				args := s.importArgs(target, rejects)
				k := s.cli.RunKilled(t, delay, args...)
				if k.Exited {
					// It finished first: nothing to resume; it must have
					// finished right.
					t.Logf("the import ended (exit %d) before the SIGKILL at %s", k.Code, delay)
					requireNoRejects(t, k.Result, rejects)
					s.dumpSame(t, "target after an import that ended before its kill", target, s.want)
					return
				}
				interrupted++
				t.Logf("SIGKILL after %s of an import that takes about %s (seed %d, round %d)", delay, span, seed, i)
				r := s.cli.Run(t, args...)
				requireNoRejects(t, r, rejects)
				s.dumpSame(t, "target after the re-run", target, s.want)
			})
		}
		t.Logf("%d of %d kills interrupted the import", interrupted, kills)
	})
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		t.Fatalf("%s=%q: want a number", name, v)
	}
	return n
}
