package mongo

import (
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestCompareFields(t *testing.T) {
	doc := func(d bson.D) bson.Raw {
		b, err := bson.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	key := bson.D{{Key: "a", Value: int32(1)}, {Key: "b", Value: int32(-1)}}
	spec := doc(bson.D{{Key: "key", Value: key}, {Key: "name", Value: "ab"}, {Key: "unique", Value: true}})
	if d := compareFields(spec, doc(bson.D{{Key: "unique", Value: true}, {Key: "name", Value: "ab"}, {Key: "key", Value: key}})); len(d) != 0 {
		t.Errorf("top-level field order counted: %q", d)
	}
	swapped := bson.D{{Key: "b", Value: int32(-1)}, {Key: "a", Value: int32(1)}}
	if d := compareFields(spec, doc(bson.D{{Key: "key", Value: swapped}, {Key: "name", Value: "ab"}, {Key: "unique", Value: true}})); len(d) != 1 {
		t.Errorf("the order inside an index key not counted: %q", d)
	}
	d := compareFields(doc(bson.D{{Key: "expireAfterSeconds", Value: int32(60)}}), doc(bson.D{{Key: "expireAfterSeconds", Value: 60.0}}))
	if len(d) != 1 || d[0] != `expireAfterSeconds: target {"$numberDouble":"60.0"}, bundle {"$numberInt":"60"}` {
		t.Errorf("Int32 60 against Double 60: %q", d)
	}
	if d := compareFields(nil, nil); len(d) != 0 {
		t.Errorf("no options on either side: %q", d)
	}
}
