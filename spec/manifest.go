// Package spec holds the Go types of the bundle manifest. SPEC.md beside this
// file is the normative description of the format; these types are its JSON
// encoding. The package does no I/O.
package spec

import "time"

// Manifest is the content of the manifest.json entry of a bundle.
type Manifest struct {
	Format    string     `json:"format"`         // always FormatName
	Version   string     `json:"format_version"` // "major.minor"
	Tool      Tool       `json:"tool"`
	CreatedAt time.Time  `json:"created_at"`
	Sources   []Source   `json:"sources"`
	Datasets  []Dataset  `json:"datasets"`
	Relations []Relation `json:"relations,omitempty"`
	// Objects are the schema objects that stand beside the data (views,
	// triggers, routines, events, sequences, Redis function libraries,
	// MongoDB views), in the order a target creates them: after the data.
	Objects []Object `json:"objects,omitempty"`
	// Uncarried counts what the sources held that this bundle does not
	// carry, so that nothing is left behind silently (SPEC.md §3).
	Uncarried []Uncarried `json:"uncarried,omitempty"`
	Notes     []string    `json:"notes,omitempty"`
	// Compression is the parts' codec and level (--compression-level);
	// absent in bundles before format 2.2, which were written at zstd's
	// default level.
	Compression *Compression `json:"compression,omitempty"`
	// Volumes is set in the index of a bundle split into volumes (format
	// 2.4, SPEC.md §2.6): the parts are in the volume files it lists.
	Volumes *VolumeSet `json:"volumes,omitempty"`
	// Rollback is set in a rollback bundle (SPEC.md §13): the prior state
	// of what an import changed, written before its first write.
	Rollback *Rollback `json:"rollback,omitempty"`
	// Delta is set in a delta bundle (format 4.0, SPEC.md §14): what
	// changed since its parent bundle.
	Delta *Delta `json:"delta,omitempty"`
}

// VolumeSet lists the volume files of a bundle split into volumes.
type VolumeSet struct {
	// Set is a random 128-bit id (32 hex digits) that every volume of
	// the set names: chosen before any volume is written, since the
	// bundle id, which hashes this list, is known only at the end.
	Set     string   `json:"set"`
	Volumes []Volume `json:"volumes"`
}

// Volume is one volume file: its number (1, 2, ...), file name (beside
// the index), size and SHA-256.
type Volume struct {
	Number int    `json:"number"`
	File   string `json:"file"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// Rollback says what a rollback bundle undoes: the import of bundle Of into
// Target. Its datasets and objects are the target's prior content of what
// the import overwrote; Absent are the objects that did not exist before
// the import, which a rollback drops.
type Rollback struct {
	Of     string           `json:"of"`     // the imported bundle's id
	Target string           `json:"target"` // the target URL, password redacted
	Engine string           `json:"engine"` // the target's engine
	Absent []RollbackObject `json:"absent,omitempty"`
}

// RollbackObject names one target object: Kind is "table", "collection",
// "database" (a Redis logical database) or an Object kind (view, trigger,
// procedure, function, event, sequence).
type RollbackObject struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name,omitempty"`
	Table     string `json:"table,omitempty"` // the table a trigger is on
}

// Compression names the codec of the parts' buffers and the level it ran at.
type Compression struct {
	Codec string `json:"codec"` // "zstd"
	Level string `json:"level"` // fastest, default, better or best
}

// Object kinds. An engine may define more; a reader that does not know a kind
// refuses to restore it by name rather than skipping it.
const (
	ObjectView      = "view"
	ObjectTrigger   = "trigger"
	ObjectProcedure = "procedure"
	ObjectFunction  = "function"
	ObjectEvent     = "event"
	ObjectSequence  = "sequence"
	ObjectUser      = "user"    // an account and its grants (MySQL --param users=true)
	ObjectLibrary   = "library" // a Redis function library (FUNCTION LIST WITHCODE)
)

// Object is one schema object of a source, restored after the data so that
// no trigger fires on imported rows. Definition is the engine's own text
// (SHOW CREATE ..., FUNCTION LIST WITHCODE's code, a MongoDB view's JSON),
// with no credentials.
type Object struct {
	Source     string            `json:"source"` // Source.ID
	Kind       string            `json:"kind"`
	Namespace  string            `json:"namespace,omitempty"` // database (or redis db number)
	Name       string            `json:"name"`
	Table      string            `json:"table,omitempty"`   // the table a trigger is on
	Definer    string            `json:"definer,omitempty"` // MySQL DEFINER (user@host)
	Definition string            `json:"definition"`
	Options    map[string]string `json:"options,omitempty"` // engine-specific (sql_mode, character set, ...)
}

// Uncarried is one kind of thing a source holds that the bundle does not
// carry, counted and named at export time.
type Uncarried struct {
	Source string   `json:"source"` // Source.ID
	Kind   string   `json:"kind"`   // e.g. "history rows", "hash field TTL"
	Count  int64    `json:"count"`
	Names  []string `json:"names,omitempty"` // the first few, for the reader
	Reason string   `json:"reason"`          // why, and the option that carries it if any
}

// Tool names the program that wrote the bundle.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Source describes one database the bundle was exported from. It never holds
// credentials: URL is the redacted form (no user info).
type Source struct {
	ID            string            `json:"id"`     // "s0", "s1", ... unique in the bundle
	Engine        string            `json:"engine"` // "mysql", "mongodb", "redis"
	URL           string            `json:"url"`    // redacted: scheme://host:port/db
	ServerVersion string            `json:"server_version,omitempty"`
	Database      string            `json:"database,omitempty"`
	Snapshot      map[string]string `json:"snapshot,omitempty"` // e.g. gtid, binlog_file, binlog_pos, consistent
	Settings      map[string]string `json:"settings,omitempty"` // e.g. sql_mode, time_zone
	ExportedAt    time.Time         `json:"exported_at"`
	// Filter is set when the export took part of what the URL names
	// (--tables, --exclude, --where, --all-databases): the bundle is
	// partial by request (SPEC.md §3, "Filtered exports").
	Filter *Filter `json:"filter,omitempty"`
}

// Filter records the selection of a filtered export, as given.
type Filter struct {
	Tables       []string `json:"tables,omitempty"`  // --tables patterns
	Exclude      []string `json:"exclude,omitempty"` // --exclude patterns
	Where        []string `json:"where,omitempty"`   // --where NAME:FILTER, as given
	AllDatabases bool     `json:"all_databases,omitempty"`
}

// Dataset kinds.
const (
	KindTable      = "table"
	KindCollection = "collection"
	KindKeyspace   = "keyspace"
)

// Dataset is one table, collection or keyspace.
type Dataset struct {
	Name       string            `json:"name"`   // unique in the bundle
	Source     string            `json:"source"` // Source.ID
	Kind       string            `json:"kind"`
	Namespace  string            `json:"namespace,omitempty"` // database (or redis db number)
	Object     string            `json:"object,omitempty"`    // table or collection name
	Columns    []Column          `json:"columns"`
	PrimaryKey []string          `json:"primary_key,omitempty"` // column names; empty = none
	DDL        string            `json:"ddl,omitempty"`         // native DDL for same-engine restore
	Options    map[string]string `json:"options,omitempty"`     // engine-specific (indexes JSON, collection options, ...)
	// Filter is the row filter the dataset was read with (--where), in
	// the source engine's query language; "" = every row. verify
	// --against reads the target with it.
	Filter   string           `json:"filter,omitempty"`
	Rows     int64            `json:"rows"`
	Parts    []Part           `json:"parts"`
	Digest   Digest           `json:"digest"`
	Skipped  int64            `json:"skipped,omitempty"` // records the exporter skipped on request (e.g. --skip-unsupported)
	Counters map[string]int64 `json:"counters,omitempty"`
	// SchemaKeys are a Redis keyspace's schema keys (imbundle:table:...,
	// imbundle:collection:...) with their values: the tables and
	// collections the keyspace holds (SPEC.md §8.1, §11.7, §11.8).
	SchemaKeys map[string]string `json:"schema_keys,omitempty"`
	// Members are the tables (or collections) of a logical dataset, in
	// the order their rows follow one another in the parts: an export
	// profile's shards entry reads a sharded table family (WildfireChat's
	// t_messages_0..35) as one dataset (SPEC.md §3, "Logical datasets").
	// Empty for a dataset read from one object.
	Members []Member `json:"members,omitempty"`
	// Delta is set on every dataset of a delta bundle (SPEC.md §14).
	Delta *DatasetDelta `json:"delta,omitempty"`
}

// Member is one table of a logical dataset: its name, its own DDL (for a
// same-engine target to recreate it) and how many of the dataset's rows,
// following those of the members before it, it gave.
type Member struct {
	Object string `json:"object"`
	DDL    string `json:"ddl,omitempty"`
	Rows   int64  `json:"rows"`
}

// Column describes one Arrow column of a dataset's parts.
type Column struct {
	Name     string            `json:"name"`
	Type     string            `json:"type"` // Arrow type as printed by arrow-go (e.g. "int64", "decimal256(65, 30)")
	Nullable bool              `json:"nullable"`
	Native   string            `json:"native,omitempty"` // the source engine's column type, e.g. "bigint(20) unsigned"
	Metadata map[string]string `json:"metadata,omitempty"`
}

// Part is one Arrow IPC file inside the bundle.
type Part struct {
	Path     string    `json:"path"`
	Rows     int64     `json:"rows"`
	Bytes    int64     `json:"bytes"` // size of the entry in the container
	SHA256   string    `json:"sha256"`
	KeyRange *KeyRange `json:"key_range,omitempty"`
}

// KeyRange holds the first and last primary key of a part, in the order the
// exporter read them. Each element is one key column rendered as text.
type KeyRange struct {
	First []string `json:"first"`
	Last  []string `json:"last"`
}

// Digest is the order-independent content digest of a dataset (SPEC.md §6).
type Digest struct {
	Algorithm string `json:"algorithm"` // DigestAlgorithm
	Rows      int64  `json:"rows"`
	Sum       string `json:"sum"` // 64 hex digits
}

// Relation origins.
const (
	RelationDeclared   = "declared"
	RelationDiscovered = "discovered"
)

// Relation is a foreign-key-like edge between datasets.
type Relation struct {
	Name   string      `json:"name,omitempty"`
	From   RelationEnd `json:"from"`
	To     RelationEnd `json:"to"`
	Origin string      `json:"origin"`
	// Checked is how a discovered edge held in the exported data.
	Checked *RelationCheck `json:"checked,omitempty"`
}

// RelationCheck counts a relation's from-values in the snapshot: the
// non-NULL ones, and those with no row in the to-dataset.
type RelationCheck struct {
	Values  int64 `json:"values"`
	Orphans int64 `json:"orphans"`
}

// RelationEnd is a dataset and an ordered list of its columns. For a
// Redis keyspace, Keys is a key-name pattern (SPEC §11.9, "MAX_SEQ:{conv}")
// whose captures, key and value are the columns of each string key it
// matches (SPEC §3, "Checking relations").
type RelationEnd struct {
	Dataset string   `json:"dataset"`
	Columns []string `json:"columns"`
	Keys    string   `json:"keys,omitempty"`
}
