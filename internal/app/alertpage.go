package app

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/costbot/costbot/internal/alert"
	"github.com/costbot/costbot/internal/store"
)

// alertPage serves GET /alerts/{fingerprint}, the generatorURL webhooks
// link to: the alert's state, its sends and the silences that match it, as
// JSON. "silenced" is true while an active silence matches a firing alert
// (its firing messages are held, reason silenced); "silences" lists every
// matching silence that has not ended, active or pending, with its id (for
// costbot silence expire), author and comment. It shows what the alert
// messages show (no secrets), so keep the listener where those who read the
// alerts can reach it.
func (a *App) alertPage(w http.ResponseWriter, r *http.Request) {
	fp := r.PathValue("fingerprint")
	st, err := a.db.Alert(r.Context(), fp)
	if errors.Is(err, store.ErrNotFound) {
		http.Error(w, "no alert "+fp+" (it may have been pruned after alerts.retention_days)", http.StatusNotFound)
		return
	}
	if err != nil {
		a.log.ErrorContext(r.Context(), "read alert", "fingerprint", fp, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	sends, err := a.db.Sends(r.Context(), []string{fp})
	if err != nil {
		a.log.ErrorContext(r.Context(), "read alert sends", "fingerprint", fp, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	now := a.now().UTC()
	sils, err := a.db.Silences(r.Context(), now)
	if err != nil {
		a.log.ErrorContext(r.Context(), "read silences", "fingerprint", fp, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	type silence struct {
		ID        string    `json:"id"`
		State     string    `json:"state"`
		Matchers  string    `json:"matchers"`
		StartsAt  time.Time `json:"starts_at"`
		EndsAt    time.Time `json:"ends_at"`
		CreatedBy string    `json:"created_by"`
		Comment   string    `json:"comment"`
	}
	type send struct {
		Notifier string    `json:"notifier"`
		Episode  int       `json:"episode"`
		Status   string    `json:"status"`
		At       time.Time `json:"at"`
	}
	body := struct {
		Fingerprint string    `json:"fingerprint"`
		Kind        string    `json:"kind"`
		Rule        string    `json:"rule"`
		Scope       string    `json:"scope"`
		Severity    string    `json:"severity"`
		Status      string    `json:"status"`
		Title       string    `json:"title"`
		Why         string    `json:"why,omitempty"`
		Episode     int       `json:"episode"`
		StartsAt    time.Time `json:"starts_at"`
		EndsAt      time.Time `json:"ends_at,omitzero"`
		Sends       []send    `json:"sends"`
		Silenced    bool      `json:"silenced"`
		Silences    []silence `json:"silences"`
	}{Fingerprint: st.Fingerprint, Kind: st.Finding.Kind.String(), Rule: st.Finding.Rule, Scope: st.Finding.Scope.String(),
		Severity: st.Finding.Severity.String(), Status: st.Status.String(), Title: st.Finding.Title, Why: st.Why,
		Episode: st.Episode, StartsAt: st.StartsAt, EndsAt: st.EndsAt, Sends: []send{}, Silences: []silence{}}
	for _, s := range sends {
		body.Sends = append(body.Sends, send{Notifier: s.Notifier, Episode: s.Episode, Status: s.Status.String(), At: s.SentAt})
	}
	l := alert.Labels(st.Finding)
	for _, s := range sils {
		if !s.Matches(l) {
			continue
		}
		state := s.State(now)
		body.Silenced = body.Silenced || (state == alert.SilenceActive && st.Status == alert.StatusFiring)
		body.Silences = append(body.Silences, silence{ID: s.ID, State: state.String(), Matchers: s.Matchers.String(),
			StartsAt: s.StartsAt, EndsAt: s.EndsAt, CreatedBy: s.CreatedBy, Comment: s.Comment})
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body)
}
