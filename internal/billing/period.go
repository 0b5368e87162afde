package billing

import (
	"time"

	"github.com/costbot/costbot/internal/cost"
)

// anchorStart is the billing-period start in the given month for a
// billing-cycle anchor on day anchorDay (1-31): anchors past the month's last
// day clamp to it, so an anchor on the 31st starts periods on Feb 28 and
// Apr 30 but on Mar 31.
func anchorStart(year int, month time.Month, anchorDay int) time.Time {
	last := time.Date(year, month+1, 0, 0, 0, 0, 0, time.UTC).Day()
	d := min(anchorDay, last)
	return time.Date(year, month, d, 0, 0, 0, 0, time.UTC)
}

// billingPeriod returns the billing period [start, next anchor) containing t.
func billingPeriod(t time.Time, anchorDay int) cost.Period {
	day := cost.Day(t)
	s := anchorStart(day.Year(), day.Month(), anchorDay)
	if day.Before(s) {
		s = anchorStart(day.Year(), day.Month()-1, anchorDay)
	}
	return cost.Period{Start: s, End: anchorStart(s.Year(), s.Month()+1, anchorDay)}
}

// nextAnchor is the period end for a period that starts at start.
func nextAnchor(start time.Time, anchorDay int) time.Time {
	return billingPeriod(start, anchorDay).End
}
