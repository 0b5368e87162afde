package billing

import (
	"time"

	"github.com/costbot/costbot/internal/cost"
)

// billingPeriod returns the billing period [start, next anchor) containing
// t: cost.BillingPeriod, the one place anchors 29-31 are clamped.
func billingPeriod(t time.Time, anchorDay int) cost.Period {
	return cost.BillingPeriod(t, anchorDay)
}

// nextAnchor is the period end for a period that starts at start.
func nextAnchor(start time.Time, anchorDay int) time.Time {
	return cost.BillingPeriod(start, anchorDay).End
}
