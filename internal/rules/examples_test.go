package rules

import (
	"testing"
)

// TestLoadDir_Examples loads the shipped rules/ so the examples cannot rot.
func TestLoadDir_Examples(t *testing.T) {
	set, err := LoadDir("../../rules")
	if err != nil {
		t.Fatalf("load shipped rules: %v", err)
	}
	if got := set.Len(); got != 5 {
		t.Errorf("Len() = %d, want 5", got)
	}
	want := []string{"finops", "ops-hook"}
	got := set.Notifiers()
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("Notifiers() = %v, want %v", got, want)
	}
}
