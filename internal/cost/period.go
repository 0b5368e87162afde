package cost

import "time"

// AnchorDate is the UTC midnight on which a billing period starts in year
// and month for a billing-cycle anchor on anchorDay: the anchor day, clamped
// to the month's last day (an anchor on the 31st starts periods on Jan 31,
// Feb 28 or 29, Mar 31, Apr 30). The clamp never sticks: the next month
// starts on the anchor day again. anchorDay below 1 counts as 1 and above 31
// as 31; month may be out of range as in time.Date (0 is December of
// year-1).
func AnchorDate(year int, month time.Month, anchorDay int) time.Time {
	anchorDay = max(1, min(anchorDay, 31))
	first := time.Date(year, month, 1, 0, 0, 0, 0, time.UTC) // normalizes month
	last := first.AddDate(0, 1, -1).Day()
	return time.Date(first.Year(), first.Month(), min(anchorDay, last), 0, 0, 0, 0, time.UTC)
}

// BillingPeriod returns the billing period [start, next start) that holds
// t's UTC day for a billing-cycle anchor on anchorDay (see AnchorDate). A day
// on which a period starts belongs to that new period.
func BillingPeriod(t time.Time, anchorDay int) Period {
	d := Day(t)
	s := AnchorDate(d.Year(), d.Month(), anchorDay)
	if d.Before(s) {
		s = AnchorDate(d.Year(), d.Month()-1, anchorDay)
	}
	return Period{Start: s, End: AnchorDate(s.Year(), s.Month()+1, anchorDay)}
}

// AnchorDayOf recovers the anchor day from a billing period as BillingPeriod
// returns it: the later of its start's and end's day of month. Of two
// consecutive months one has 31 days, so one of the two dates is never
// clamped (Feb 28 - Mar 31 has anchor 31, Jan 30 - Feb 28 has 30). It
// returns 0 for a zero period.
func AnchorDayOf(p Period) int {
	if p.IsZero() {
		return 0
	}
	return max(p.Start.UTC().Day(), p.End.UTC().Day())
}
