package mongotype

import "testing"

// replyBytes runs a sizer over docs (document sizes in cursor order) and
// returns the biggest reply it asked for, in bytes, and the last batch size.
func replyBytes(limit int32, docs []int) (biggest int64, last int32) {
	z := NewCursorSizer(limit, 0)
	size := z.First()
	for i := 0; i < len(docs); {
		var reply int64
		for j := int32(0); j < size && i < len(docs); j, i = j+1, i+1 {
			reply += int64(docs[i])
			z.Saw(docs[i])
		}
		biggest = max(biggest, reply)
		size = z.Next()
	}
	return biggest, size
}

func repeat(n, size int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = size
	}
	return out
}

func TestCursorSizer(t *testing.T) {
	const wire = 48_000_000 // maxMessageSizeBytes
	for _, c := range []struct {
		name      string
		docs      []int
		wantLast  int32
		wantUnder int64
	}{
		{"small documents reach the count limit", repeat(5000, 100), 1000, wire},
		{"66 KB documents: about 8 MiB a reply", repeat(3000, 66<<10), 8 << 20 / (66 << 10), 9 << 20},
		{"16 MiB documents: one a reply", repeat(10, 16<<20), 1, wire},
		{"small first, then 66 KB", append(repeat(2000, 100), repeat(3000, 66<<10)...), 8 << 20 / (66 << 10), wire},
		{"66 KB with a few of 5 and 15 MiB", append(append(repeat(1000, 66<<10), 5<<20, 15<<20), repeat(1000, 66<<10)...), 2, wire},
	} {
		biggest, last := replyBytes(1000, c.docs)
		if biggest >= c.wantUnder {
			t.Errorf("%s: a reply of %d bytes, want under %d", c.name, biggest, c.wantUnder)
		}
		if last != c.wantLast {
			t.Errorf("%s: batch size %d at the end, want %d", c.name, last, c.wantLast)
		}
	}
	if z := NewCursorSizer(1000, 66<<10); z.First() != 8<<20/(66<<10) {
		t.Errorf("first batch with a 66 KB hint: %d", z.First())
	}
	if z := NewCursorSizer(5, 10); z.First() != 5 {
		t.Errorf("first batch within a limit of 5: %d", z.First())
	}
}
