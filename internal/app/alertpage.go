package app

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/costbot/costbot/internal/store"
)

// alertPage serves GET /alerts/{fingerprint}, the generatorURL webhooks
// link to: the alert's state and its sends, as JSON. It shows what the
// alert messages show (no secrets), so keep the listener where those who
// read the alerts can reach it.
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
	}{Fingerprint: st.Fingerprint, Kind: st.Finding.Kind.String(), Rule: st.Finding.Rule, Scope: st.Finding.Scope.String(),
		Severity: st.Finding.Severity.String(), Status: st.Status.String(), Title: st.Finding.Title, Why: st.Why,
		Episode: st.Episode, StartsAt: st.StartsAt, EndsAt: st.EndsAt, Sends: []send{}}
	for _, s := range sends {
		body.Sends = append(body.Sends, send{Notifier: s.Notifier, Episode: s.Episode, Status: s.Status.String(), At: s.SentAt})
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body)
}
