package mongotype

import (
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/spec"
)

func TestViewDefinition(t *testing.T) {
	// listCollections options of a view, with a collation whose strength
	// is an Int32 and a Decimal128 in the pipeline: both must survive.
	var opts bson.Raw
	in := `{"collation": {"locale": "en", "strength": {"$numberInt": "2"}}, "pipeline": [{"$match": {"amount": {"$gt": {"$numberDecimal": "1.50"}}}}], "viewOn": "orders"}`
	if err := bson.UnmarshalExtJSON([]byte(in), true, &opts); err != nil {
		t.Fatal(err)
	}
	def, err := ViewDefinition(opts)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"viewOn":"orders","pipeline":[{"$match":{"amount":{"$gt":{"$numberDecimal":"1.50"}}}}],"collation":{"locale":"en","strength":{"$numberInt":"2"}}}`
	if def != want {
		t.Errorf("definition %s\nwant       %s", def, want)
	}
	doc, on, err := ParseView(def)
	if err != nil || on != "orders" {
		t.Fatalf("ParseView: %q, %v", on, err)
	}
	cmd, err := CreateView("big_orders", doc)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := bson.MarshalExtJSON(cmd, true, false)
	if got := string(js); got != `{"create":"big_orders",`+strings.TrimPrefix(want, "{") {
		t.Errorf("create command %s", got)
	}
	for _, bad := range []string{`{"pipeline": []}`, `{"viewOn": "x"}`, `{"viewOn": "", "pipeline": []}`} {
		var o bson.Raw
		bson.UnmarshalExtJSON([]byte(bad), true, &o)
		if _, err := ViewDefinition(o); err == nil {
			t.Errorf("view options %s accepted", bad)
		}
	}
}

func TestOrderViews(t *testing.T) {
	view := func(name, on string) spec.Object {
		return spec.Object{Kind: spec.ObjectView, Name: name, Definition: `{"viewOn":"` + on + `","pipeline":[]}`}
	}
	got := OrderViews([]spec.Object{view("a_on_b", "b_on_c"), view("b_on_c", "c"), view("z", "coll"), view("c", "coll")})
	var names []string
	for _, v := range got {
		names = append(names, v.Name)
	}
	if s := strings.Join(names, " "); s != "c z b_on_c a_on_b" {
		t.Errorf("order %s, want each view after the one it reads", s)
	}
}
