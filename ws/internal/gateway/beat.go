package gateway

import "time"

// The node sends server heart-beats from one loop instead of a ticker per
// connection: every beatTick it looks at each live session and queues a
// heart-beat for those that have written nothing for their interval (less
// one tick), so beats go out between hbOut-beatTick and hbOut after the
// last write. An idle connection then needs no goroutine of its own
// besides its reader.

// beatTick is how often the heart-beat loop looks at the sessions: a tenth
// of the server's heart-beat interval (every negotiated interval is at
// least that long).
func (s *Server) beatTick() time.Duration {
	return max(s.cfg.HeartbeatOut/10, time.Millisecond)
}

// startBeats starts the heart-beat loop once, at the first session that
// wants server heart-beats; Shutdown stops it.
func (s *Server) startBeats() {
	s.beatOnce.Do(func() {
		s.beatWG.Add(1)
		go s.beatLoop()
	})
}

func (s *Server) beatLoop() {
	defer s.beatWG.Done()
	tick := s.beatTick()
	t := time.NewTicker(tick)
	defer t.Stop()
	var conns []*conn
	for {
		select {
		case <-s.beatStop:
			return
		case now := <-t.C:
			s.mu.Lock()
			for _, c := range s.live {
				conns = append(conns, c)
			}
			s.mu.Unlock()
			ns := now.UnixNano()
			for _, c := range conns {
				every := c.beatEvery.Load()
				if every > 0 && ns-c.lastWrite.Load() >= every-int64(tick) {
					c.beat()
				}
			}
			clear(conns)
			conns = conns[:0]
		}
	}
}

// beat queues a heart-beat unless something is queued or being written
// already (which will reach the client sooner).
func (c *conn) beat() {
	c.qmu.Lock()
	busy := c.writing || len(c.queue) > 0
	c.qmu.Unlock()
	if !busy {
		c.enqueue(outItem{frame: heartbeat})
	}
}
