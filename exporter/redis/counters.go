package redis

import "sync"

// counters are what one dataset's read counted: they reach the manifest
// through exporter.CounterReporter, so nothing is dropped unseen.
type counters struct {
	mu         sync.Mutex
	keys       int64 // keys exported
	vanished   int64 // deleted between SCAN and read
	retyped    int64 // type changed between TYPE and read: read again
	duplicates int64 // returned more than once by SCAN: exported once
	changed    int64 // deleted or retyped while being paged: partly read
	guessedIDs int64 // streams whose last ID was taken from the last entry (no XINFO)
	fieldsGone int64 // hash fields deleted or expired between HSCAN and HPEXPIRETIME: left out
	skipped    map[string]int64
	schemaKeys map[string]string // schema keys read (schemakeys.go)
}

func (c *counters) add(f func(c *counters)) {
	c.mu.Lock()
	f(c)
	c.mu.Unlock()
}

func (c *counters) snapshot() (int64, map[string]int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := map[string]int64{
		"keys":            c.keys,
		"vanished":        c.vanished,
		"retyped":         c.retyped,
		"scan_duplicates": c.duplicates,
	}
	if c.changed > 0 {
		m["changed_while_paged"] = c.changed
	}
	if c.guessedIDs > 0 {
		m["stream_last_id_from_last_entry"] = c.guessedIDs
	}
	if c.fieldsGone > 0 {
		m["fields_vanished"] = c.fieldsGone
	}
	var skipped int64
	for t, n := range c.skipped {
		m["skipped_type:"+t] = n
		skipped += n
	}
	return skipped, m
}
