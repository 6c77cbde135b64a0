package mysqltype

import (
	"reflect"
	"testing"
)

func TestIndexes(t *testing.T) {
	ddl := "CREATE TABLE `t` (\n  `a` int NOT NULL,\n  `b``q` varchar(40),\n  `c` text,\n  PRIMARY KEY (`a`,`b``q`),\n" +
		"  UNIQUE KEY `u` (`b``q`),\n  KEY `k` (`c`(10),`a` DESC) USING BTREE COMMENT 'x',\n  FULLTEXT KEY `f` (`c`)\n) ENGINE=InnoDB"
	got, err := Indexes(ddl)
	if err != nil {
		t.Fatal(err)
	}
	want := []Index{
		{Name: "u", Kind: "UNIQUE", Columns: []IndexColumn{{Name: "b`q"}}},
		{Name: "k", Columns: []IndexColumn{{Name: "c", Prefix: 10}, {Name: "a", Desc: true}}},
		{Name: "f", Kind: "FULLTEXT", Columns: []IndexColumn{{Name: "c"}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Indexes:\n got %+v\nwant %+v", got, want)
	}
	pk, err := PrimaryKeyParts(ddl)
	if err != nil || !reflect.DeepEqual(pk, []IndexColumn{{Name: "a"}, {Name: "b`q"}}) {
		t.Errorf("PrimaryKeyParts: %+v %v", pk, err)
	}
	if _, err := Indexes("CREATE TABLE t (\n  KEY `e` ((`a` + 1))\n)"); err == nil {
		t.Error("a functional key part was accepted")
	}
}
