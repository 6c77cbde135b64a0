package mysqltype

import (
	"strings"
	"testing"

	"github.com/imbundle/imbundle/spec"
)

func TestViewOrder(t *testing.T) {
	v := func(name, def string) spec.Object {
		return spec.Object{Kind: spec.ObjectView, Name: name, Definition: def}
	}
	// a reads c, c reads b: b, c, a whatever the name order; d reads nothing.
	got := viewOrder([]spec.Object{
		v("a", "CREATE VIEW `a` AS select `c`.`x` AS `x` from `c`"),
		v("b", "CREATE VIEW `b` AS select 1 AS `x`"),
		v("c", "CREATE VIEW `c` AS select `b`.`x` AS `x` from `b` where 'a' = 'a'"),
		v("d", "CREATE VIEW `d` AS select 2 AS `y`"),
	})
	var names []string
	for _, o := range got {
		names = append(names, o.Name)
	}
	if strings.Join(names, ",") != "b,c,d,a" {
		t.Errorf("view order %v, want b,c,d,a", names)
	}
}
