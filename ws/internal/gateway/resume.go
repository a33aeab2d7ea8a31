package gateway

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/roomwire/roomwire/shared/chat/messages"
	"github.com/roomwire/roomwire/shared/redis/fanout"
	"github.com/roomwire/roomwire/ws/internal/wsconn"
)

// ResumeHeader is the SUBSCRIBE header asking for every message after a seq.
const ResumeHeader = "last-seq"

// TruncatedHeader marks the notice MESSAGE sent right before the first
// message after a gap: history no longer reaches back to the seq after the
// last one sent (last-seq+1 at the start of a resume, or trimmed by
// HISTORY_LEN while a replay or catch-up read it), or the replay stopped at
// MaxReplay (after the last replayed one). The client must reload the gap
// from REST.
const TruncatedHeader = "x-resume-truncated"

// ResetHeader marks the notice MESSAGE sent, instead of a replay, when
// last-seq is beyond the room's latest seq: the subscription goes on from
// the latest seq, and the client must reload its state from REST.
const ResetHeader = "x-resume-reset"

// replayPage is how many history entries one Redis read returns; a
// replaying subscription holds at most one page besides the queue.
const replayPage = 100

// How a resume shares a connection's outbound queue:
//   - The replay queues history while the queue holds less than half of
//     QueueBytes and QueueFrames (the low-water mark), then waits until the
//     writer has taken the queue (c.drained); a reader is fed as fast as it
//     reads, and never more than the queue bound is in memory.
//   - Live messages arriving meanwhile are buffered; the buffers of all the
//     connection's replays hold at most QueueBytes/4 bytes (c.resumeBuf) and
//     QueueFrames/4 messages each. Beyond, a subscription drops its buffer
//     (history has those messages) and its replay reads on from history.
//   - The replay ends when a history read returned less than asked and no
//     buffer was dropped since that read began: then the buffer holds every
//     message after it (no gap; duplicates are skipped by seq).
//   - At most MaxReplay messages are replayed in all; the gap after them is
//     announced before the next message (TruncatedHeader). So is a gap in
//     history itself: a page read no longer holds the seq after the last
//     one queued (trimmed by HISTORY_LEN meanwhile).
//
// A catch-up is the same replay, started by the server: a live chat
// message for a connection whose queue is above its high-water mark (3/4
// of QueueFrames or QueueBytes) is not queued; the subscription replays
// from its lastSeq instead (catchUpLocked), not capped at MaxReplay. A
// reader that reads, only slowly, is never cut for its queue: late rather
// than lost. Frames outside history (events, notifications, receipts)
// still hit the queue's hard bound.
//
// A client that does not read stalls the writer, whose write deadline cuts
// it off as a slow consumer.

// deliverLive is the subscription's delivery path, shared by the hub and
// the replay. Caller holds s.mu.
func (s *subscription) deliverLive(m *fanout.Msg) {
	if m.Seq > 0 {
		if m.Seq <= s.lastSeq {
			return // already replayed from history
		}
		if s.gap {
			s.gap = false
			if m.Seq > s.lastSeq+1 {
				s.c.enqueue(outItem{frame: s.c.noticeFrame(s, TruncatedHeader, truncatedBody(s.roomID, s.lastSeq, m.Seq))})
			}
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
	enqueue := c.enqueue
	if m.Fanout > 0 && m.Fanout <= inlineFanout {
		enqueue = c.enqueueNow
	}
	if enqueue(outItem{msg: m, sub: s}) {
		c.srv.delivered.Add(1)
	}
}

// bufferLocked keeps a live message that arrived during the replay, or
// drops the whole buffer when the connection's replay buffers are full
// (see above). Caller holds s.mu.
func (s *subscription) bufferLocked(m *fanout.Msg) {
	c := s.c
	n := outItem{msg: m}.size()
	if c.resumeBuf.Add(int64(n)) > int64(c.srv.cfg.QueueBytes/4) || len(s.buffered) >= c.srv.cfg.QueueFrames/4 {
		c.resumeBuf.Add(-int64(n + s.bufBytes))
		s.buffered, s.bufBytes = nil, 0
		s.drops++
		c.srv.log.Debug("resume live buffer dropped, the replay reads it from history", "session", c.id, "subscription", s.id)
		return
	}
	s.buffered = append(s.buffered, m)
	s.bufBytes += n
}

// resume starts replaying history after `after` into s, which was
// subscribed to the hub with replaying set (nothing live is lost). It reads
// the first page itself, so a Redis failure fails the SUBSCRIBE, and queues
// the truncation or reset notice; the rest runs on a replay goroutine
// owned by the connection (c.replays), after any earlier replay of the
// connection.
func (c *conn) resume(ctx context.Context, s *subscription, after int64) error {
	s.mu.Lock()
	drops := s.drops
	s.mu.Unlock()
	limit := min(replayPage, c.srv.cfg.MaxReplay)
	page, oldest, err := c.srv.history.Since(ctx, s.roomID, after, limit)
	if errors.Is(err, messages.ErrArchiveUnavailable) {
		// PostgreSQL is down: replay what Redis holds and report the
		// older part as truncated (the client reloads it over REST later),
		// rather than fail the SUBSCRIBE and have the client loop.
		c.srv.log.Warn("resume: archive unavailable, replaying Redis's history only", "session", c.id, "room", s.roomID, "err", err)
		err = nil
	}
	if err != nil {
		return err
	}
	if len(page) == 0 && after > 0 {
		latest, err := c.srv.history.LastSeq(ctx, s.roomID)
		if err != nil {
			return err
		}
		if after > latest {
			s.mu.Lock()
			defer s.mu.Unlock()
			body := fmt.Sprintf(`{"type":"RESUME_RESET","chatRoomId":%d,"lastSeq":%d,"latestSeq":%d}`, s.roomID, after, latest)
			c.enqueue(outItem{frame: c.noticeFrame(s, ResetHeader, body)})
			s.lastSeq = latest
			s.finishLocked()
			return nil
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastSeq = after
	if oldest > after+1 {
		c.enqueue(outItem{frame: c.noticeFrame(s, TruncatedHeader, truncatedBody(s.roomID, after, oldest))})
	}
	if len(page) == 0 {
		s.finishLocked()
		return nil
	}
	short := len(page) < limit
	if !c.startReplay(func(ctx context.Context) { c.replay(ctx, s, page, short, drops, c.srv.cfg.MaxReplay) }) {
		s.finishLocked() // the connection ended: nothing more is sent
	}
	return nil
}

// catchUpLocked switches live subscription s into a catch-up, m being the
// live message that found the queue above its high-water mark: m is
// buffered like a live message during a resume and a replay from s.lastSeq
// (the highest seq queued) starts. Caller holds s.mu.
func (s *subscription) catchUpLocked(m *fanout.Msg) {
	c := s.c
	if s.lastSeq == 0 {
		s.lastSeq = m.Seq - 1 // nothing queued yet: earlier messages were never due
	}
	drops := s.drops
	if !c.startReplay(func(ctx context.Context) { c.replay(ctx, s, nil, false, drops, math.MaxInt) }) {
		return // the connection ended
	}
	s.replaying = true
	s.bufferLocked(m)
	c.srv.catchUps.Add(1)
	c.srv.log.Debug("slow reader catches up from history", "session", c.id, "subscription", s.id, "after", s.lastSeq)
}

// aboveHighWater reports whether the outbound queue holds 3/4 of
// QueueFrames or QueueBytes or more (see catchUpLocked); false once the
// connection is closing.
func (c *conn) aboveHighWater() bool {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	return !c.closing && !c.dead &&
		(len(c.queue) >= c.srv.cfg.QueueFrames*3/4 || c.qbytes >= c.srv.cfg.QueueBytes*3/4)
}

// replay queues page and the following history of s with flow control,
// then switches s to live delivery (finishLocked). short: page came back
// shorter than asked; drops: s.drops when it was read; at most maxReplay
// messages are queued (MaxReplay for a resume, none for a catch-up). It
// stops early when ctx ends (the connection closes) or s is unsubscribed.
func (c *conn) replay(ctx context.Context, s *subscription, page [][]byte, short bool, drops, maxReplay int) {
	c.replayMu.Lock()
	defer c.replayMu.Unlock()
	replayed := 0
	for {
		for _, p := range page {
			if !c.waitRoom(s) {
				s.abandon()
				return
			}
			s.mu.Lock()
			if s.stopped.Load() { // UNSUBSCRIBE came in after waitRoom
				s.mu.Unlock()
				s.abandon()
				return
			}
			s.deliverLive(fanout.NewMsg(s.channel, p))
			s.mu.Unlock()
			replayed++
		}
		if replayed >= maxReplay || short {
			// The buffer joins the queue: wait for room for it as well.
			if !c.waitRoom(s) {
				s.abandon()
				return
			}
			s.mu.Lock()
			if s.stopped.Load() {
				s.mu.Unlock()
				s.abandon()
				return
			}
			if replayed >= maxReplay || s.drops == drops {
				if replayed >= maxReplay {
					s.gap = true
				}
				s.finishLocked()
				s.mu.Unlock()
				return
			}
			s.mu.Unlock()
		}
		s.mu.Lock()
		after, limit := s.lastSeq, min(replayPage, maxReplay-replayed)
		drops = s.drops
		s.mu.Unlock()
		rctx, cancel := context.WithTimeout(ctx, c.srv.cfg.RedisTimeout)
		var oldest int64
		var err error
		page, oldest, err = c.srv.history.Since(rctx, s.roomID, after, limit)
		cancel()
		if errors.Is(err, messages.ErrArchiveUnavailable) {
			err = nil // what Redis holds; the part below it is announced as a gap
		}
		if err != nil {
			s.abandon()
			if ctx.Err() == nil {
				c.srv.log.Warn("resume from history", "session", c.id, "err", err)
				c.kick("resume failed, reconnect", wsconn.StatusTryAgainLater)
			}
			return
		}
		if oldest > after+1 {
			// History no longer holds after+1: the next message (the
			// first of page) comes after a notice (deliverLive).
			s.mu.Lock()
			s.gap = true
			s.mu.Unlock()
		}
		short = len(page) < limit
	}
}

// waitRoom waits until the outbound queue is below its low-water mark; it
// reports false when the connection is closing or s was unsubscribed.
func (c *conn) waitRoom(s *subscription) bool {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	for !c.closing && !c.dead && !s.stopped.Load() &&
		(c.qbytes >= c.srv.cfg.QueueBytes/2 || len(c.queue) >= c.srv.cfg.QueueFrames/2) {
		c.drained.Wait()
	}
	return !c.closing && !c.dead && !s.stopped.Load()
}

// stopReplay makes a running replay of s stop (UNSUBSCRIBE). stopped is
// set under s.mu, which the hub's Deliver and the replay hold while they
// check it and queue a MESSAGE: once stopReplay returns, no MESSAGE of s
// can be queued after it (the UNSUBSCRIBE's RECEIPT comes later).
func (c *conn) stopReplay(s *subscription) {
	s.mu.Lock()
	s.stopped.Store(true)
	s.mu.Unlock()
	c.qmu.Lock()
	c.drained.Broadcast()
	c.qmu.Unlock()
}

// finishLocked ends the replay: what arrived live meanwhile is queued, in
// order, and s goes live. Caller holds s.mu.
func (s *subscription) finishLocked() {
	for _, m := range s.buffered {
		s.deliverLive(m)
	}
	s.c.resumeBuf.Add(-int64(s.bufBytes))
	s.buffered, s.bufBytes, s.replaying = nil, 0, false
}

// abandon forgets the buffer of a replay that stopped early.
func (s *subscription) abandon() {
	s.mu.Lock()
	s.c.resumeBuf.Add(-int64(s.bufBytes))
	s.buffered, s.bufBytes = nil, 0
	s.mu.Unlock()
}

func truncatedBody(roomID, lastSeq, oldestSeq int64) string {
	return fmt.Sprintf(`{"type":"RESUME_TRUNCATED","chatRoomId":%d,"lastSeq":%d,"oldestSeq":%d}`, roomID, lastSeq, oldestSeq)
}

// noticeFrame builds a resume notice MESSAGE (header: TruncatedHeader or
// ResetHeader) with a JSON body.
func (c *conn) noticeFrame(s *subscription, header, body string) []byte {
	b := []byte("MESSAGE\ndestination:")
	b = append(b, s.destEsc...)
	b = append(b, "\nmessage-id:resume-"...)
	b = append(b, s.idEsc...)
	b = append(b, "\nsubscription:"...)
	b = append(b, s.idEsc...)
	b = append(b, '\n')
	b = append(b, header...)
	b = append(b, ":true\ncontent-type:application/json\ncontent-length:"...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, "\n\n"...)
	b = append(b, body...)
	return append(b, 0)
}
