package alert

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/costbot/costbot/internal/cost"
)

// Fingerprint returns the stable identity of a finding: the first 16 hex
// digits of sha256 over its kind, rule, scope (account id or pattern, family,
// service, zone; never the account's name), period (start and end as UTC RFC 3339) and threshold. Each field is
// length-prefixed, so no two distinct findings can join to the same input.
// Numbers such as Actual or Forecast do not take part: the same threshold
// crossed in the same period is the same alert however much was spent.
func Fingerprint(f cost.Finding) string {
	return digest(groupFields(f), f.Threshold)
}

// Group returns the key shared by every threshold of one rule, scope and
// period: the fingerprint without the threshold. Escalations and threads are
// per group.
func Group(f cost.Finding) string {
	return digest(groupFields(f))
}

func groupFields(f cost.Finding) []string {
	return []string{
		f.Kind.String(),
		f.Rule,
		f.Scope.Account,
		f.Scope.Family,
		f.Scope.Service,
		f.Scope.Zone,
		f.Period.Start.UTC().Format(time.RFC3339),
		f.Period.End.UTC().Format(time.RFC3339),
	}
}

func digest(fields []string, more ...string) string {
	var b strings.Builder
	for _, s := range append(fields, more...) {
		b.WriteString(strconv.Itoa(len(s)))
		b.WriteByte(':')
		b.WriteString(s)
		b.WriteByte(';')
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])[:16]
}
