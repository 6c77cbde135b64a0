package convert

import (
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// fieldUse is what of a name's value the expressions of an entry read:
// all of it, or only the sub-fields in kids, each read through a chain of
// constant member accesses (msgs.msg.send_id). Binding a row then turns
// into Go values only those sub-fields, not every field of an OpenIM
// message for each of the hundred in a document; an expression sees the
// same values either way, since the others are never read.
type fieldUse struct {
	whole bool
	kids  map[string]*fieldUse
}

func (u *fieldUse) add(path []string) {
	switch {
	case u.whole:
	case len(path) == 0:
		u.whole, u.kids = true, nil
	default:
		if u.kids == nil {
			u.kids = map[string]*fieldUse{}
		}
		k := u.kids[path[0]]
		if k == nil {
			k = &fieldUse{}
			u.kids[path[0]] = k
		}
		k.add(path[1:])
	}
}

// addUses adds to uses what expression src reads of each name (src has
// compiled already: a parse error adds nothing).
func addUses(uses map[string]*fieldUse, src string) {
	tree, err := parser.Parse(src)
	if err != nil {
		return
	}
	var all nodes
	ast.Walk(&tree.Node, &all)
	chains := map[ast.Node][]string{}
	covered := map[ast.Node]bool{} // inside a longer chain
	for _, n := range all {
		if m, ok := n.(*ast.MemberNode); ok {
			if path, ok := constantChain(m); ok {
				chains[m] = path
				covered[m.Node] = true
			}
		}
	}
	use := func(name string) *fieldUse {
		if uses[name] == nil {
			uses[name] = &fieldUse{}
		}
		return uses[name]
	}
	for _, n := range all {
		switch n := n.(type) {
		case *ast.MemberNode:
			if path, ok := chains[n]; ok && !covered[n] {
				use(path[0]).add(path[1:])
			}
		case *ast.IdentifierNode:
			if !covered[n] {
				use(n.Value).add(nil)
			}
		}
	}
}

type nodes []ast.Node

func (a *nodes) Visit(n *ast.Node) { *a = append(*a, *n) }

// constantChain is name.a.b of a member access by constant names down to
// an identifier.
func constantChain(m *ast.MemberNode) ([]string, bool) {
	s, ok := m.Property.(*ast.StringNode)
	if !ok || m.Method {
		return nil, false
	}
	switch in := m.Node.(type) {
	case *ast.IdentifierNode:
		return []string{in.Value, s.Value}, true
	case *ast.MemberNode:
		if p, ok := constantChain(in); ok {
			return append(p, s.Value), true
		}
	}
	return nil, false
}

// sparseAny is bsonAny of the parts of v that u reads: a sub-document
// holds only the sub-fields read (a missing one is nil either way).
func sparseAny(v bson.RawValue, u *fieldUse) any {
	if u == nil || u.whole || v.Type != bson.TypeEmbeddedDocument {
		return bsonAny(v)
	}
	doc := v.Document()
	m := make(map[string]any, len(u.kids))
	for k, ku := range u.kids {
		if e, err := doc.LookupErr(k); err == nil {
			m[k] = sparseAny(e, ku)
		}
	}
	return m
}
