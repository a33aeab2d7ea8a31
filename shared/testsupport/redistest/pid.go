package redistest

// PID is the process id of the running redis-server, or 0 when it is not
// running.
func (s *Server) PID() int {
	if s.cmd == nil || s.cmd.Process == nil || s.cmd.ProcessState != nil {
		return 0
	}
	return s.cmd.Process.Pid
}
