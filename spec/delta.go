package spec

// Delta marks a delta bundle (SPEC.md §14, format 4.0): it carries what
// changed in its sources since its parent bundle, not their whole
// content. A target takes it only on top of its parent: import refuses a
// target whose last applied bundle is another (unless forced).
type Delta struct {
	// Parent is the bundle id of the bundle this delta follows (a full
	// bundle or a delta); Base is the id of the full bundle at the start
	// of the chain, Depth this delta's place in it (1 for the first).
	Parent string `json:"parent"`
	Base   string `json:"base"`
	Depth  int    `json:"depth"`
	// Dropped lists the datasets the parent held and the sources no
	// longer do: an import drops them from the target.
	Dropped []DroppedDataset `json:"dropped,omitempty"`
}

// DroppedDataset names a dataset of the parent that is gone.
type DroppedDataset struct {
	Name      string `json:"name"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Object    string `json:"object,omitempty"`
}

// What a delta does to one dataset (DatasetDelta.Change).
const (
	// ChangeNone: the dataset is as it was in the parent; it has no parts.
	ChangeNone = "none"
	// ChangeRows: the entities (rows by key, Redis keys) named by the
	// deleted keys are removed, then the dataset's parts are added. The
	// deleted keys name every entity the delta writes or removes, so that
	// the delta applied again ends the same.
	ChangeRows = "rows"
	// ChangeWhole: the dataset's parts are its whole content (a new
	// dataset, a changed definition, a dataset without a key): it
	// replaces what the target holds.
	ChangeWhole = "whole"
)

// DatasetDelta is what a delta bundle records of one dataset.
type DatasetDelta struct {
	Change string `json:"change"`
	// Key names the columns whose values identify an entity: the primary
	// key of a table, _id of a collection, key of a Redis keyspace.
	Key []string `json:"key,omitempty"`
	// Deleted holds the keys of the entities the delta removes or
	// rewrites (ChangeRows).
	Deleted *DeletedKeys `json:"deleted,omitempty"`
	// Removed is the content digest of the parent's rows this delta takes
	// away (those of every entity Deleted names): the dataset's digest
	// after the delta is the parent's − Removed + the delta's own rows.
	Removed Digest `json:"removed"`
	// State is the content digest of the dataset after the delta, which
	// is the source's at this export: verify --against compares a target
	// with it.
	State Digest `json:"state"`
	// Changed and Inserted count entities (not rows) for the reader.
	Changed  int64 `json:"changed,omitempty"`
	Inserted int64 `json:"inserted,omitempty"`
	Removals int64 `json:"removed_entities,omitempty"`
}

// DeletedKeys are parts of key columns only, one row per entity.
type DeletedKeys struct {
	Columns []Column `json:"columns"`
	Rows    int64    `json:"rows"`
	Parts   []Part   `json:"parts"`
	Digest  Digest   `json:"digest"`
}

// DeletedDataset returns the deleted keys of ds as a dataset of their own
// (name "<ds>#deleted"), for reading and checking their parts as any
// dataset's; nil when ds has none.
func DeletedDataset(ds *Dataset) *Dataset {
	if ds.Delta == nil || ds.Delta.Deleted == nil {
		return nil
	}
	d := ds.Delta.Deleted
	return &Dataset{Name: ds.Name + "#deleted", Source: ds.Source, Kind: ds.Kind, Namespace: ds.Namespace, Object: ds.Object,
		Columns: d.Columns, PrimaryKey: ds.Delta.Key, Rows: d.Rows, Parts: d.Parts, Digest: d.Digest}
}

// StateDigest is the digest a target holding ds's dataset must have: the
// delta's State for a dataset of a delta bundle, else the dataset's own.
func StateDigest(ds *Dataset) Digest {
	if ds.Delta != nil {
		return ds.Delta.State
	}
	return ds.Digest
}
