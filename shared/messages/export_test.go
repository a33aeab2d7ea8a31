package messages

// Queued returns how many sends wait for the round trip in flight.
func (s *Store) Queued() int {
	s.batch.mu.Lock()
	defer s.batch.mu.Unlock()
	return len(s.batch.queue)
}
