package convert

import (
	"fmt"
	"path"
	"strings"
)

// A mapping's shards (SPEC.md §11.6, "Logical datasets") are read by
// export --profile/--map: the tables of one database whose names an
// entry's match matches are exported as one logical dataset, named by
// dataset in that database (WildfireChat's t_messages_0..35 as
// wfchat.t_messages). Import, plan and verify read the bundle, in which
// the shards are already one dataset: they ignore this key.
type ShardEntry struct {
	Match   string `yaml:"match"`   // a glob over dataset names: "*.t_messages_*"
	Dataset string `yaml:"dataset"` // the logical dataset's object name: t_messages
}

// checkShards refuses a malformed glob, a missing or dotted name, and
// two entries making one logical dataset.
func (m *Mapping) checkShards() error {
	names := map[string]int{}
	for i, s := range m.Shards {
		at := fmt.Sprintf("$.shards[%d]", i)
		if s.Match == "" {
			return m.errorAt(at, "a shards entry needs match: a glob of the member tables (\"*.t_messages_*\")")
		}
		if _, err := path.Match(s.Match, ""); err != nil {
			return m.errorAt(at+".match", "bad glob %q: %v", s.Match, err)
		}
		if s.Dataset == "" || strings.ContainsAny(s.Dataset, "./*?[") {
			return m.errorAt(at, "a shards entry needs dataset: the logical dataset's name in the members' database, without a dot or glob (t_messages)")
		}
		if j, dup := names[s.Dataset]; dup {
			return m.errorAt(at+".dataset", "logical dataset %s is named by shards[%d] too", s.Dataset, j)
		}
		names[s.Dataset] = i
	}
	return nil
}
