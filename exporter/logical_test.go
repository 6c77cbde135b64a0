package exporter

import (
	"errors"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/spec"
)

func shardTable(name, toType string) Dataset {
	meta := func(n string) arrow.Metadata { return arrow.NewMetadata([]string{bundle.MetaNative}, []string{n}) }
	s := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64, Metadata: meta("bigint")},
		{Name: "_to", Type: arrow.BinaryTypes.String, Nullable: true, Metadata: meta(toType)},
	}, nil)
	return Dataset{Spec: spec.Dataset{Name: "db." + name, Kind: spec.KindTable, Namespace: "db", Object: name, PrimaryKey: []string{"id"}, DDL: "CREATE TABLE `" + name + "` (...)"}, Schema: s}
}

// The shards become one logical dataset in the place of the first, every
// member listed with its DDL, an empty one included; relations naming a
// member name the logical dataset, once.
func TestGroupShards(t *testing.T) {
	desc := &Description{
		Datasets: []Dataset{shardTable("a", "text"), shardTable("m_0", "varchar(64)"), shardTable("m_1", "varchar(64)"), shardTable("z", "text")},
		Relations: []spec.Relation{
			{From: spec.RelationEnd{Dataset: "db.m_0", Columns: []string{"_to"}}, To: spec.RelationEnd{Dataset: "db.a", Columns: []string{"id"}}},
			{From: spec.RelationEnd{Dataset: "db.m_1", Columns: []string{"_to"}}, To: spec.RelationEnd{Dataset: "db.a", Columns: []string{"id"}}},
		},
	}
	if err := groupShards(desc, Shards{{Match: "*.m_*", Name: "m"}}); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range desc.Datasets {
		names = append(names, d.Spec.Name)
	}
	if strings.Join(names, ",") != "db.a,db.m,db.z" {
		t.Fatalf("datasets %v", names)
	}
	m := desc.Datasets[1].Spec
	if m.Object != "m" || m.DDL != "" || len(m.Members) != 2 || m.Members[1].Object != "m_1" || m.Members[1].DDL != "CREATE TABLE `m_1` (...)" {
		t.Errorf("logical dataset %+v", m)
	}
	if len(desc.Relations) != 1 || desc.Relations[0].From.Dataset != "db.m" {
		t.Errorf("relations %+v, want one from db.m", desc.Relations)
	}
	mds := MemberDatasets(&m)
	if len(mds) != 2 || mds[0].Name != "db.m_0" || mds[0].Object != "m_0" || len(mds[0].Members) != 0 {
		t.Errorf("member datasets %+v", mds)
	}
}

// A member whose column differs is refused, naming it and the column.
func TestGroupShardsRefusesDifferingMember(t *testing.T) {
	desc := &Description{Datasets: []Dataset{shardTable("m_0", "varchar(64)"), shardTable("m_1", "varchar(80)")}}
	err := groupShards(desc, Shards{{Match: "*.m_*", Name: "m"}})
	var mm *MemberMismatchError
	if !errors.As(err, &mm) || mm.Member != "db.m_1" || !strings.Contains(err.Error(), "column _to is varchar(80) NULL, not varchar(64) NULL") {
		t.Fatalf("err %v", err)
	}
	// A source dataset named as the logical dataset is refused too.
	desc = &Description{Datasets: []Dataset{shardTable("m_0", "text"), shardTable("m", "text")}}
	if err := groupShards(desc, Shards{{Match: "*.m_*", Name: "m"}}); err == nil || !strings.Contains(err.Error(), "also has a dataset of that name") {
		t.Fatalf("err %v", err)
	}
}
