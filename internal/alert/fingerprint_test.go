package alert_test

import (
	"testing"
	"time"

	"github.com/costbot/costbot/internal/alert"
	"github.com/costbot/costbot/internal/cost"
)

func TestFingerprint(t *testing.T) {
	base := catalogue()["b80"]
	fp := alert.Fingerprint(base)
	// The fingerprint is persisted and used as Slack button values: it must not drift.
	if want := goldenFingerprint; fp != want {
		t.Errorf("Fingerprint(b80) = %s, want %s", fp, want)
	}
	if len(fp) != 16 || len(alert.Group(base)) != 16 {
		t.Errorf("lengths %d, %d; want 16", len(fp), len(alert.Group(base)))
	}
	local := base
	local.Period.Start = base.Period.Start.In(time.FixedZone("X", 3600))
	same := map[string]func(f *cost.Finding){
		"OKNumbersIgnored":   func(f *cost.Finding) { f.Actual, f.Forecast, f.Title, f.Summary = 1, 2, "t", "s" },
		"OKSeverityIgnored":  func(f *cost.Finding) { f.Severity = cost.SeverityCritical },
		"OKNotifiersIgnored": func(f *cost.Finding) { f.Notifiers = []string{"x"} },
		"OKTimeZoneIgnored":  func(f *cost.Finding) { f.Period.Start = local.Period.Start },
	}
	for name, mut := range same {
		t.Run(name, func(t *testing.T) {
			f := base
			mut(&f)
			if alert.Fingerprint(f) != fp {
				t.Errorf("fingerprint changed")
			}
		})
	}
	differ := map[string]func(f *cost.Finding){
		"Kind":      func(f *cost.Finding) { f.Kind = cost.KindForecast },
		"Rule":      func(f *cost.Finding) { f.Rule = "other" },
		"Account":   func(f *cost.Finding) { f.Scope.Account = "other" },
		"Family":    func(f *cost.Finding) { f.Scope.Family = "R2" },
		"Service":   func(f *cost.Finding) { f.Scope.Service = "R2" },
		"Zone":      func(f *cost.Finding) { f.Scope.Zone = "z" },
		"Start":     func(f *cost.Finding) { f.Period.Start = f.Period.Start.Add(time.Second) },
		"End":       func(f *cost.Finding) { f.Period.End = f.Period.End.Add(time.Second) },
		"Threshold": func(f *cost.Finding) { f.Threshold = "actual>=90%" },
		// Moving text between adjacent fields must not collide.
		"ShiftedFields": func(f *cost.Finding) { f.Rule, f.Scope.Account = f.Rule+f.Scope.Account, "" },
	}
	for name, mut := range differ {
		t.Run("Differs"+name, func(t *testing.T) {
			f := base
			mut(&f)
			if alert.Fingerprint(f) == fp {
				t.Errorf("fingerprint unchanged")
			}
			if g := alert.Group(f) == alert.Group(base); g != (name == "Threshold") {
				t.Errorf("same group = %v", g)
			}
		})
	}
	t.Run("GroupIsNotFingerprintWithoutThreshold", func(t *testing.T) {
		f := base
		f.Threshold = ""
		if alert.Group(base) == alert.Fingerprint(f) {
			t.Error("group key equals the fingerprint of an empty threshold")
		}
	})
}

// goldenFingerprint is sha256("6:budget;7:monthly;32:0123…;0:;0:;0:;20:2026-11-01T00:00:00Z;20:2026-12-01T00:00:00Z;11:actual>=80%;")[:16].
const goldenFingerprint = "f7c81916d128affa"
