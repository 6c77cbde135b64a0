package bundle

import "sync"

// decodeBudget bounds the memory that all PartReaders of the process hold
// at once for the batches they decode: an import or a deep verify reads
// parts with -j goroutines, and each batch is allowed what its checked
// header declares (PartReader.Next). A batch waits until its share fits;
// one larger than the whole budget (a legitimately huge row) waits until
// nothing else is held and then decodes alone, so memory stays within
// max(maxBatchMemory, the largest batch) however many jobs run. With the
// default limit no batch is larger than the budget; a raised limit lets
// such a batch decode alone.
var decodeBudget = newByteBudget(defaultBatchMemory)

// byteBudget is a counting semaphore of bytes that serves a request larger
// than its total alone, ahead of the smaller requests that come after it.
type byteBudget struct {
	mu         sync.Mutex
	cond       sync.Cond
	total      int64
	used       int64
	bigWaiting int
}

func newByteBudget(total int64) *byteBudget {
	b := &byteBudget{total: total}
	b.cond.L = &b.mu
	return b
}

// acquire blocks until n bytes may be held and returns n. Each holder
// releases what it holds before it asks again (PartReader.Next does), so
// a goroutine reading one part at a time never waits on itself.
func (b *byteBudget) acquire(n int64) int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n > b.total {
		b.bigWaiting++
		for b.used > 0 {
			b.cond.Wait()
		}
		b.bigWaiting--
	} else {
		for b.used+n > b.total || b.bigWaiting > 0 {
			b.cond.Wait()
		}
	}
	b.used += n
	return n
}

func (b *byteBudget) release(n int64) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
	b.cond.Broadcast()
}
