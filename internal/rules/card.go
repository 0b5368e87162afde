package rules

import (
	"fmt"
	"math"
	"time"

	"github.com/costbot/costbot/internal/cost"
)

// evalCard reports the current stage of every matching account's card.
//
// Days left is ExpiresAt - Now in whole days, rounded down. Only the current
// stage is emitted: the smallest warn_days value w with daysLeft <= w, with
// Threshold "card<=<w>d". Its severity follows the stage: info for w >= 30,
// warning for 7 <= w < 30, critical for w < 7. Once the card has expired the
// finding is "card-expired", critical. Every stage has its own Threshold, so
// each one fires once and the previous stage resolves.
func evalCard(r *CardRule, ix *index, in Input) []cost.Finding {
	var out []cost.Finding
	for _, c := range in.Cards {
		if _, stale := in.Stale[c.Account]; stale {
			continue
		}
		acct := ix.byID[c.Account]
		if acct.ID == "" {
			acct = cost.Account{ID: c.Account}
		}
		if !(Scope{Account: r.Account}).matchAccount(acct) {
			continue
		}
		if c.ExpiryMonth < 1 || c.ExpiryMonth > 12 || c.ExpiryYear < 1 {
			continue
		}
		exp := c.ExpiresAt()
		left := int(math.Floor(exp.Sub(in.Now).Hours() / 24))
		f := cost.Finding{
			Kind:      cost.KindCardExpiry,
			Rule:      r.Name,
			Scope:     cost.Scope{Account: acct.ID, AccountName: acct.Name},
			Period:    cost.Period{Start: time.Date(c.ExpiryYear, time.Month(c.ExpiryMonth), 1, 0, 0, 0, 0, time.UTC), End: exp},
			Notifiers: append([]string(nil), r.Notify...),
			Card:      &cost.CardDetail{Masked: c.Masked, ExpiresAt: exp, DaysLeft: left},
		}
		card := "Payment card"
		if l4 := c.Last4(); l4 != "" {
			card += " ending " + l4
		}
		month := f.Period.Start.Format("01/2006")
		if !in.Now.Before(exp) {
			f.Threshold = "card-expired"
			f.Severity = cost.SeverityCritical
			f.Title = fmt.Sprintf("%s on %s has expired (%s)", card, label(acct), month)
			f.Summary = fmt.Sprintf("The card expired at the end of %s. Cloudflare cannot charge it: update the billing profile of account %s now.\nRule %s.", month, label(acct), r.Name)
			out = append(out, f)
			continue
		}
		stage := -1
		for _, w := range r.WarnDays {
			if left <= w && (stage < 0 || w < stage) {
				stage = w
			}
		}
		if stage < 0 {
			continue
		}
		f.Threshold = fmt.Sprintf("card<=%dd", stage)
		switch {
		case stage >= 30:
			f.Severity = cost.SeverityInfo
		case stage >= 7:
			f.Severity = cost.SeverityWarning
		default:
			f.Severity = cost.SeverityCritical
		}
		f.Title = fmt.Sprintf("%s on %s expires in %s (valid through %s)", card, label(acct), daysText(left), month)
		f.Summary = fmt.Sprintf("The card works through the end of %s (stops on %s). Update the billing profile of account %s before then.\nRule %s, stage %s.",
			month, exp.Format("Jan 2, 2006"), label(acct), r.Name, f.Threshold)
		out = append(out, f)
	}
	return out
}

func daysText(n int) string {
	switch n {
	case 0:
		return "less than a day"
	case 1:
		return "1 day"
	}
	return fmt.Sprintf("%d days", n)
}
