package alert

// Episode is the alert episode the delivery's message belongs to: the
// outbox stores it so a message sent after a restart is recorded under the
// episode it was planned for.
func (d Delivery) Episode() int { return d.episode }
