package app

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/demo"
)

// A budget period that ends sends a closing notice, end to end: the Workers
// budget fires in November's billing period (7 Nov – 6 Dec); the first
// cycle after a restart on 8 Dec, with December's data, posts "period
// ended: closed at …, …% of budget" in the budget alert's Slack thread and
// sends the webhook receiver a resolved message under the firing one's
// groupKey.
func TestApp_Cycle_BudgetPeriodEndSendsClosingNotice(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC)
	e := newEnv(t, now)
	a := e.app(t, now)
	if _, err := a.Cycle(ctx, now); err != nil {
		t.Fatal(err)
	}
	var rootTS string
	for i, p := range e.slack.posts {
		if strings.Contains(p.Get("text"), "Workers") && strings.Contains(p.Get("text"), "budget at") {
			rootTS = fmt.Sprintf("1764000000.%06d", i+1)
		}
	}
	var groupKey string
	for _, b := range e.hook.bodies {
		if b["status"] == "firing" && strings.Contains(fmt.Sprint(b["groupLabels"]), "CostbotBudget") {
			groupKey, _ = b["groupKey"].(string)
		}
	}
	if rootTS == "" || groupKey == "" {
		t.Fatalf("no budget alert posted (slack ts %q, webhook groupKey %q)", rootTS, groupKey)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}

	later := time.Date(2026, 12, 8, 17, 0, 0, 0, time.UTC)
	cf := httptest.NewServer(demo.NewServer(later))
	t.Cleanup(cf.Close)
	e.cfg.Cloudflare.BaseURL = cf.URL
	posts, hooks := e.slack.count(), e.hook.count()
	if _, err := e.app(t, later).Cycle(ctx, later); err != nil {
		t.Fatal(err)
	}
	const why = "period ended: closed at $236.00, 94% of budget"
	var closing bool
	for _, p := range e.slack.posts[posts:] {
		if text := p.Get("text"); strings.Contains(text, why) && strings.Contains(text, "Resolved: Workers (production) budget at") {
			closing = true
			if p.Get("thread_ts") != rootTS {
				t.Errorf("closing notice posted under %q, want the budget alert's thread %s", p.Get("thread_ts"), rootTS)
			}
		}
	}
	if !closing {
		t.Errorf("no Slack post says %q", why)
	}
	var resolved []string
	for _, b := range e.hook.bodies[hooks:] {
		if b["groupKey"] == groupKey {
			resolved = append(resolved, fmt.Sprint(b["status"]))
			if !strings.Contains(fmt.Sprint(b["alerts"]), why) {
				t.Errorf("the webhook's resolved message does not say %q: %v", why, b["alerts"])
			}
		}
	}
	if len(resolved) != 1 || resolved[0] != "resolved" {
		t.Errorf("the webhook got %q under groupKey %s, want one resolved message", resolved, groupKey)
	}
}
