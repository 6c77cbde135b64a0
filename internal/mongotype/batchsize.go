package mongotype

// Cursor batches are sized by bytes, not counts. A MongoDB server caps a
// reply at 16 MiB whatever batchSize asks, but FerretDB 1.24 returns as many
// documents as asked: 1,000 documents of 66 KB make a 66 MB reply, past the
// 48 MB wire-message limit, and the driver fails the cursor ("length of read
// message too large"). The size of the next batch is therefore chosen from
// the documents seen so far.
//
// collStats' avgObjSize is not asked: on FerretDB it counts the documents
// (a full scan), and on MongoDB the server's own 16 MiB cap already holds.
const (
	// ReplyBudget is the bytes a batch aims at: the average document size
	// times the batch size.
	ReplyBudget = 8 << 20
	// replyBound bounds the batch size times the biggest document seen, so
	// that a collection with a few documents of several MB stays under the
	// 48 MB message limit too.
	replyBound = 32 << 20
	// firstBatch is the first reply's size, before any document is seen:
	// two documents of the 16 MiB BSON maximum still fit in a message.
	firstBatch = 2
	// batchGrowth bounds how fast the batch grows from one reply to the
	// next, so that a run of small documents does not make a huge batch of
	// the big ones that follow.
	batchGrowth = 4
)

// CursorSizer chooses the batch size of each reply of one cursor; the
// importer sizes its lookups of existing documents with it too.
type CursorSizer struct {
	limit              int32 // upper bound in documents (--param cursor-batch)
	docs, bytes        int64 // all documents seen
	replyDocs, replyBy int64 // the documents of the current reply
	biggest            int
	last               int32
}

// NewCursorSizer starts a sizer whose batches never exceed limit documents.
// hint, when positive, is an expected document size (the bundle's, for a
// lookup of the same _ids), used until documents are seen.
func NewCursorSizer(limit int32, hint int) *CursorSizer {
	z := &CursorSizer{limit: max(limit, 1)}
	z.last = min(z.limit, firstBatch)
	if hint > 0 {
		z.last = z.fit(int64(hint), hint)
	}
	return z
}

// First is the batch size of the initial find.
func (z *CursorSizer) First() int32 { return z.last }

// Saw records one document of n bytes.
func (z *CursorSizer) Saw(n int) {
	z.docs++
	z.bytes += int64(n)
	z.replyDocs++
	z.replyBy += int64(n)
	z.biggest = max(z.biggest, n)
}

// Next is the batch size of the next getMore. The average is the larger of
// the whole cursor's and the last reply's, so that documents growing along
// the collection (small ones first, then big ones) are followed at once.
func (z *CursorSizer) Next() int32 {
	if z.docs == 0 {
		return z.last
	}
	avg := z.bytes / z.docs
	if z.replyDocs > 0 {
		avg = max(avg, z.replyBy/z.replyDocs)
	}
	z.replyDocs, z.replyBy = 0, 0
	n := min(z.fit(avg, z.biggest), z.last*batchGrowth)
	z.last = max(n, 1)
	return z.last
}

// fit is the largest batch within the limit, the budget for documents of
// avg bytes and the bound for documents of biggest bytes.
func (z *CursorSizer) fit(avg int64, biggest int) int32 {
	n := int64(z.limit)
	if avg > 0 {
		n = min(n, ReplyBudget/avg)
	}
	if biggest > 0 {
		n = min(n, int64(replyBound/biggest))
	}
	return int32(max(n, 1))
}
