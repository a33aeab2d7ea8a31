package gateway

import (
	"fmt"
	"time"

	"golang.org/x/time/rate"

	"github.com/roomwire/roomwire/ws/internal/stomp"
)

// ResumeCost is what a SUBSCRIBE with last-seq costs of the session's
// SUBSCRIBE budget (Config.SubscribeRate), against one for any other
// SUBSCRIBE or UNSUBSCRIBE: it reads up to MaxReplay messages of history.
// With the default burst of 100, ten resuming SUBSCRIBEs may come at once.
const ResumeCost = 10

// startBudgets gives a session its frame budgets, at CONNECT.
func (c *conn) startBudgets() {
	cfg := &c.srv.cfg
	if cfg.FrameRate > 0 {
		c.frameBudget = rate.NewLimiter(rate.Limit(cfg.FrameRate), cfg.FrameBurst)
	}
	if cfg.SendRate > 0 {
		c.sends = rate.NewLimiter(rate.Limit(cfg.SendRate), cfg.SendBurst)
	}
	if cfg.SubscribeRate > 0 {
		c.subBudget = rate.NewLimiter(rate.Limit(cfg.SubscribeRate), cfg.SubscribeBurst)
	}
}

// spend charges frame f, received after CONNECT, to the session's budgets
// before it is handled; beyond one it returns errRateLimited. DISCONNECT
// costs nothing.
func (c *conn) spend(f *stomp.Frame) error {
	if f.Command == "DISCONNECT" {
		return nil
	}
	now := time.Now() // one clock read for every budget of the frame
	if c.frameBudget != nil && !c.frameBudget.AllowN(now, 1) {
		return fmt.Errorf("%w: more than %g frames a second", errRateLimited, c.srv.cfg.FrameRate)
	}
	switch f.Command {
	case "SEND":
		if c.sends != nil && !c.sends.AllowN(now, 1) {
			return errRateLimited
		}
	case "SUBSCRIBE", "UNSUBSCRIBE":
		if c.subBudget == nil {
			return nil
		}
		n := 1
		if _, resume := f.Get(ResumeHeader); resume && f.Command == "SUBSCRIBE" {
			n = min(ResumeCost, c.srv.cfg.SubscribeBurst)
		}
		if !c.subBudget.AllowN(now, n) {
			return fmt.Errorf("%w: SUBSCRIBE and UNSUBSCRIBE (a resuming SUBSCRIBE counts %d) more than %g a second",
				errRateLimited, ResumeCost, c.srv.cfg.SubscribeRate)
		}
	}
	return nil
}
