package mysql

import "testing"

// The column names discovery takes for references to a table's key.
func TestReferenceMatches(t *testing.T) {
	for _, tc := range []struct {
		table, pk, col string
		want           bool
	}{
		{"users", "id", "user_id", true},
		{"users", "id", "owner_user_id", true},
		{"users", "id", "xuser_id", false},
		{"users", "id", "id", false}, // a one-word key alone names nothing
		{"t_user", "_uid", "_uid", true},
		{"t_user", "_uid", "owner_uid", false},
		{"t_user", "_uid", "owner__uid", true},
		{"groups", "group_id", "group_id", true},
		{"groups", "group_id", "owner_group_id", true},
		{"groups", "group_id", "subgroup_id", false},
		{"Users", "ID", "user_id", true},
	} {
		if got := newReference(tc.table, tc.pk).matches(tc.col); got != tc.want {
			t.Errorf("%s.%s, column %s: %v, want %v", tc.table, tc.pk, tc.col, got, tc.want)
		}
	}
}
