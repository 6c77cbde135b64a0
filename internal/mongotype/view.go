package mongotype

import (
	"fmt"
	"sort"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/imbundle/imbundle/spec"
)

// A view travels as a manifest object (SPEC.md §9.1): Kind spec.ObjectView,
// Namespace the database, Name the view, Definition the canonical Extended
// JSON of {viewOn, pipeline, collation?} as listCollections gives them. It
// holds no documents; the importer creates it after the data.

// viewKeys are the options of a view that define it, in Definition order.
var viewKeys = []string{"viewOn", "pipeline", "collation"}

// ViewDefinition renders a view's listCollections options as its
// Definition: viewOn, pipeline and collation (when set), in that order,
// as canonical Extended JSON.
func ViewDefinition(opts bson.Raw) (string, error) {
	idx, out := bsoncore.AppendDocumentStart(nil)
	for _, k := range viewKeys {
		v, err := opts.LookupErr(k)
		if err != nil {
			continue
		}
		out = bsoncore.AppendValueElement(out, k, bsoncore.Value{Type: bsoncore.Type(v.Type), Data: v.Value})
	}
	out, err := bsoncore.AppendDocumentEnd(out, idx)
	if err != nil {
		return "", err
	}
	if _, err := checkView(bson.Raw(out)); err != nil {
		return "", err
	}
	js, err := bson.MarshalExtJSON(bson.Raw(out), true, false)
	return string(js), err
}

// ParseView decodes a Definition and returns it as BSON with the name of
// the collection or view it reads.
func ParseView(def string) (doc bson.Raw, viewOn string, err error) {
	if err := bson.UnmarshalExtJSON([]byte(def), true, &doc); err != nil {
		return nil, "", fmt.Errorf("view definition: %w", err)
	}
	viewOn, err = checkView(doc)
	return doc, viewOn, err
}

func checkView(doc bson.Raw) (string, error) {
	on, ok := doc.Lookup("viewOn").StringValueOK()
	if !ok || on == "" {
		return "", fmt.Errorf("view definition %s has no viewOn", doc)
	}
	if _, ok := doc.Lookup("pipeline").ArrayOK(); !ok {
		return "", fmt.Errorf("view definition %s has no pipeline array", doc)
	}
	return on, nil
}

// CreateView is the create command for a view named name with a
// definition from ParseView.
func CreateView(name string, def bson.Raw) (bson.Raw, error) {
	els, err := def.Elements()
	if err != nil {
		return nil, err
	}
	idx, cmd := bsoncore.AppendDocumentStart(nil)
	cmd = bsoncore.AppendStringElement(cmd, "create", name)
	for _, el := range els {
		cmd = append(cmd, el...)
	}
	cmd, err = bsoncore.AppendDocumentEnd(cmd, idx)
	return bson.Raw(cmd), err
}

// OrderViews sorts the views of one database so that a view comes after
// the views it reads (a view may be defined on another view), else by
// name. A cycle, which no server allows, keeps the remaining views in name
// order.
func OrderViews(views []spec.Object) []spec.Object {
	sort.SliceStable(views, func(i, j int) bool { return views[i].Name < views[j].Name })
	byName := map[string]bool{}
	for _, v := range views {
		byName[v.Name] = true
	}
	done := map[string]bool{}
	out := make([]spec.Object, 0, len(views))
	for len(out) < len(views) {
		progress := false
		for _, v := range views {
			if done[v.Name] {
				continue
			}
			_, on, err := ParseView(v.Definition)
			if err == nil && byName[on] && !done[on] && on != v.Name {
				continue
			}
			done[v.Name] = true
			out = append(out, v)
			progress = true
		}
		if !progress {
			for _, v := range views {
				if !done[v.Name] {
					done[v.Name] = true
					out = append(out, v)
				}
			}
		}
	}
	return out
}
