package gateway

import (
	"context"
	"fmt"
	"strconv"

	"github.com/roomwire/roomwire/shared/fanout"
)

// ResumeHeader is the SUBSCRIBE header asking for every message after a seq.
const ResumeHeader = "last-seq"

// TruncatedHeader marks the MESSAGE sent, before any replay, when history
// no longer reaches back to last-seq+1: the client must reload from REST.
const TruncatedHeader = "x-resume-truncated"

// replayPage is how many history entries one Redis read returns.
const replayPage = 500

// deliverLive is the subscription's delivery path, shared by the hub and
// the end of a replay. Caller holds s.mu.
func (s *subscription) deliverLive(m *fanout.Msg) {
	if m.Seq > 0 {
		if m.Seq <= s.lastSeq {
			return // already replayed from history
		}
		s.lastSeq = m.Seq
	}
	c := s.c
	if s.ack != ackAuto {
		c.ackMu.Lock()
		if len(c.acks) >= c.srv.cfg.MaxPendingAcks {
			c.ackMu.Unlock()
			c.kick("too many unacknowledged messages", 1008)
			return
		}
		ackID := s.id + ":" + m.ID
		if c.acks == nil {
			c.acks = make(map[string]*subscription)
		}
		c.acks[ackID] = s
		s.pending = append(s.pending, ackID)
		c.ackMu.Unlock()
	}
	if c.enqueue(outItem{msg: m, sub: s}) {
		c.srv.delivered.Add(1)
	}
}

// resume replays history after `after` into s, then switches s to live
// delivery, draining what arrived live meanwhile without gap or duplicate.
// s was subscribed to the hub with replaying set, so nothing live is lost.
func (c *conn) resume(ctx context.Context, s *subscription, after int64) error {
	var replay [][]byte
	last := after
	truncated := false
	var oldest int64
	for len(replay) < c.srv.cfg.MaxReplay {
		page, first, err := c.srv.history.Since(ctx, s.roomID, last, min(replayPage, c.srv.cfg.MaxReplay-len(replay)))
		if err != nil {
			return err
		}
		if len(replay) == 0 {
			oldest = first
			truncated = first > after+1
		}
		replay = append(replay, page...)
		if len(page) == 0 {
			break
		}
		last = fanout.NewMsg(s.channel, page[len(page)-1]).Seq
		if len(page) < replayPage {
			break
		}
	}
	if len(replay) >= c.srv.cfg.MaxReplay {
		truncated = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if truncated {
		body := fmt.Sprintf(`{"type":"RESUME_TRUNCATED","chatRoomId":%d,"lastSeq":%d,"oldestSeq":%d}`, s.roomID, after, oldest)
		c.enqueue(outItem{frame: c.noticeFrame(s, body)})
	}
	s.lastSeq = after
	for _, p := range replay {
		s.deliverLive(fanout.NewMsg(s.channel, p))
	}
	for _, m := range s.buffered {
		s.deliverLive(m)
	}
	s.buffered, s.replaying = nil, false
	return nil
}

// noticeFrame builds the MESSAGE telling a resuming subscriber that
// history was truncated.
func (c *conn) noticeFrame(s *subscription, body string) []byte {
	b := []byte("MESSAGE\ndestination:")
	b = append(b, s.destEsc...)
	b = append(b, "\nmessage-id:resume-"...)
	b = append(b, s.idEsc...)
	b = append(b, "\nsubscription:"...)
	b = append(b, s.idEsc...)
	b = append(b, "\n"+TruncatedHeader+":true\ncontent-type:application/json\ncontent-length:"...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, "\n\n"...)
	b = append(b, body...)
	return append(b, 0)
}
