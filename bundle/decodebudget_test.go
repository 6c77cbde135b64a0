package bundle

import (
	"sync/atomic"
	"testing"
	"testing/synctest"
)

// The budget keeps the total held under its size, lets a request larger
// than the size run alone, and lets no smaller request overtake a waiting
// large one (which could starve it). synctest makes "is still waiting" a
// fact, not a timeout.
func TestByteBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newByteBudget(100)
		first := b.acquire(60)
		var bigGot, smallGot atomic.Bool
		go func() { b.acquire(150); bigGot.Store(true) }()
		synctest.Wait()
		if bigGot.Load() {
			t.Fatal("a request over the budget ran while another was held")
		}
		go func() { b.acquire(10); smallGot.Store(true) }()
		synctest.Wait()
		if smallGot.Load() {
			t.Fatal("a small request overtook the waiting large one")
		}
		b.release(first)
		synctest.Wait()
		if !bigGot.Load() || smallGot.Load() {
			t.Fatalf("after release: large ran %v, small ran %v; want only the large", bigGot.Load(), smallGot.Load())
		}
		b.release(150)
		synctest.Wait()
		if !smallGot.Load() {
			t.Fatal("the small request did not run once the large one was done")
		}
		if b.used != 10 {
			t.Fatalf("used %d, want 10", b.used)
		}
	})
}

// Within the budget, a request waits only until it fits.
func TestByteBudgetFits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newByteBudget(100)
		b.acquire(50)
		b.acquire(50)
		var got atomic.Bool
		go func() { b.acquire(1); got.Store(true) }()
		synctest.Wait()
		if got.Load() {
			t.Fatal("a request past the budget did not wait")
		}
		b.release(50)
		synctest.Wait()
		if !got.Load() {
			t.Fatal("a request that fits did not run")
		}
	})
}
