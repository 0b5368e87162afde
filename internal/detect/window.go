package detect

// window is the running mean of the last len(buf) values (of fewer at the
// start); its buffer is allocated once.
type window struct {
	buf    []float64
	pos, n int
	sum    float64
}

// push adds x, drops the oldest value once the window is full, and returns
// the mean.
func (w *window) push(x float64) float64 {
	old := w.buf[w.pos]
	w.buf[w.pos] = x
	if w.pos++; w.pos == len(w.buf) {
		w.pos = 0
	}
	w.sum += x - old
	if w.n < len(w.buf) {
		w.n++
	}
	return w.sum / float64(w.n)
}

// ewmv is an exponentially weighted mean and variance: the first points
// weigh equally (rate 1/(n+1)), later ones at the floor rate.
type ewmv struct {
	mean, v float64
	n       int // values added
}

func (s *ewmv) add(x, floor float64) {
	al := ewmaRate(s.n+1, floor)
	dm := x - s.mean
	s.mean += al * dm
	s.v = (1 - al) * (s.v + al*dm*dm)
	s.n++
}
