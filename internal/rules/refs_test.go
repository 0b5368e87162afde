package rules

import (
	"reflect"
	"testing"
)

func TestSet_Refs(t *testing.T) {
	set, err := Parse("r.yaml", []byte(`budgets:
  - name: monthly
    amount: 100
    currency: USD
    thresholds: [{percent: 80, on: actual}]
    notify: [finops, pager]
cards:
  - name: card
    notify: [finops]
  - name: quiet
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []Ref{
		{Rule: "monthly", Notifier: "finops", Pos: Pos{File: "r.yaml", Line: 2, Col: 11}},
		{Rule: "monthly", Notifier: "pager", Pos: Pos{File: "r.yaml", Line: 2, Col: 11}},
		{Rule: "card", Notifier: "finops", Pos: Pos{File: "r.yaml", Line: 8, Col: 11}},
	}
	if got := set.Refs(); !reflect.DeepEqual(got, want) {
		t.Errorf("Refs() =\n%+v\nwant\n%+v", got, want)
	}
	if got := (*Set)(nil).Refs(); got != nil {
		t.Errorf("nil Set: %v", got)
	}
}
