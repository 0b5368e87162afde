package store

import "testing"

func TestRebind(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"SELECT ? , ?", "SELECT $1 , $2"},
		{"VALUES (?1, ?, ?), (?1, ?, ?)", "VALUES ($1, $2, $3), ($1, $4, $5)"},
		{"SELECT ?, ?1, ?", "SELECT $1, $1, $2"},
		{"SELECT ?3, ?", "SELECT $3, $4"},
		{"SELECT '?', \"?\", ?", "SELECT '?', \"?\", $1"},
	} {
		if got := rebind(tc.in); got != tc.want {
			t.Errorf("rebind(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
