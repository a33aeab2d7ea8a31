package gateway_test

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/archive"
	"github.com/roomwire/roomwire/shared/chat/archiver"
	"github.com/roomwire/roomwire/shared/chat/messages"
	"github.com/roomwire/roomwire/shared/chat/room"
	"github.com/roomwire/roomwire/shared/infra/auth"
	"github.com/roomwire/roomwire/shared/redis/keys"
	"github.com/roomwire/roomwire/shared/testsupport/archivetest"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
	"github.com/roomwire/roomwire/ws/internal/gateway"
	"github.com/roomwire/roomwire/ws/internal/stomp"
	"github.com/roomwire/roomwire/ws/internal/wsnode"
)

// archiveHistoryLen is HISTORY_LEN of the archive tests: Redis keeps about
// this many messages of a room once PostgreSQL holds the older ones.
const archiveHistoryLen = 100

// archiveSetup is a deployment with the archive on, as cmd/ws and cmd/api
// wire it, on a private key space: a room store that feeds the archive
// (rooms are created by the api), a PostgreSQL database with an archiver
// into it (run by fill and archivetest.Drain), and the archive reader of the ws nodes, which
// reads through proxy so a test can take PostgreSQL away.
type archiveSetup struct {
	rdb    *redis.Client
	keys   keys.Space
	rooms  *room.Store
	sink   *archive.Store
	reader *archive.Store
	proxy  *archivetest.Proxy
	arc    *archiver.Archiver
}

func newArchiveSetup(t *testing.T) *archiveSetup {
	t.Helper()
	dbURL := archivetest.NewDB(t)
	sink := archivetest.Migrated(t, dbURL, archive.Config{})
	proxy := archivetest.NewProxy(t, dbURL)
	// Lazy, as cmd/ws opens it: the node serves while PostgreSQL is down.
	reader := archivetest.Open(t, proxy.URL(), archive.Config{Lazy: true})
	rdb := srv.Client(t)
	ks := redistest.Space(t)
	return &archiveSetup{rdb: rdb, keys: ks, sink: sink, reader: reader, proxy: proxy,
		rooms: room.NewStore(rdb, ks, room.Config{ArchiveFeed: room.ArchiveFeed{On: true}}),
		arc:   archivetest.NewArchiver(rdb, ks, sink, nil)}
}

// node starts a ws node named id on the setup's key space (nodes of one
// setup form one deployment) with HISTORY_LEN archiveHistoryLen, the
// archive feed and reader on, and WS_MAX_REPLAY maxReplay.
func (s *archiveSetup) node(t *testing.T, id string, maxReplay int) *env {
	t.Helper()
	verifier, err := auth.NewVerifier(auth.Config{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	return startEnv(t, s.keys, verifier, wsnode.Config{ID: id,
		Gateway: gateway.Config{WriteTimeout: 2 * time.Second, ConnectRate: -1, MaxReplay: maxReplay},
		Messages: messages.Config{MaxBytes: 40000, HistoryLen: archiveHistoryLen,
			ArchiveFeed: messages.ArchiveFeed{On: true}, Archive: s.reader}})
}

// fill sends n messages from sender into roomID through msgs (a node's
// send path) and archives them as they go: archivetest.Filler.Fill, which
// leaves the newest archiveHistoryLen of them in Redis. The room must have
// had no message before.
func (s *archiveSetup) fill(t testing.TB, msgs *messages.Store, roomID, sender int64, n int) [][]byte {
	t.Helper()
	return archivetest.Filler{Msgs: msgs, HistoryLen: archiveHistoryLen, Arc: s.arc}.Fill(t, roomID, sender, n)
}

// window is what Redis holds of roomID's history.
func (s *archiveSetup) window(t testing.TB, roomID int64) archivetest.Window {
	t.Helper()
	return archivetest.RedisWindow(t, s.rdb, s.keys, roomID)
}

// replayed is what a last-seq SUBSCRIBE got until its last wanted seq and
// its RECEIPT had arrived.
type replayed struct {
	seqs    []int
	bodies  map[int][]byte
	notices []*stomp.Frame // x-resume-truncated or x-resume-reset notices, in order
	// noticeAt is, for each notice, how many messages came before it.
	noticeAt []int
}

// resumeFrom subscribes c to roomID's messages with last-seq after and
// receipt id, and reads until the MESSAGE with seq last and the RECEIPT
// have arrived. Any other frame fails the test.
func resumeFrom(t *testing.T, c *client, id string, roomID int64, after, last int) replayed {
	t.Helper()
	c.send("SUBSCRIBE", "", "id", id, "destination", fmt.Sprintf("/sub/chat/room/%d", roomID),
		"last-seq", strconv.Itoa(after), "receipt", id+"-r")
	r := replayed{bodies: map[int][]byte{}}
	for receipt := false; !receipt || len(r.seqs) == 0 || r.seqs[len(r.seqs)-1] < last; {
		switch f := c.next(); {
		case f.Command == "RECEIPT" && f.Value("receipt-id") == id+"-r":
			receipt = true
		case f.Command == "MESSAGE" && (f.Value(gateway.TruncatedHeader) != "" || f.Value(gateway.ResetHeader) != ""):
			r.notices = append(r.notices, f)
			r.noticeAt = append(r.noticeAt, len(r.seqs))
		case f.Command == "MESSAGE" && f.Value("subscription") == id:
			seq := seqOf(t, f)
			r.seqs = append(r.seqs, seq)
			r.bodies[seq] = f.Body
		default:
			t.Fatalf("got %s %v %q while resuming", f.Command, f.Headers, f.Body)
		}
	}
	return r
}

// assertBodies checks that every replayed seq from..to came byte for byte
// as sent.
func assertBodies(t *testing.T, r replayed, sent [][]byte, from, to int) {
	t.Helper()
	for seq := from; seq <= to; seq++ {
		if !bytes.Equal(r.bodies[seq], sent[seq]) {
			t.Fatalf("seq %d replayed as %s, sent as %s", seq, r.bodies[seq], sent[seq])
		}
	}
}

// sendLive stores one message into roomID as sender and returns its seq.
func sendLive(t *testing.T, e *env, roomID, sender int64, text string) int {
	t.Helper()
	m, _, err := e.msgs.Send(context.Background(), roomID, sender, 0, text)
	if err != nil {
		t.Fatal(err)
	}
	return int(m.Seq)
}

// Issue #16: 10,000 messages in a room with HISTORY_LEN 100, archived as
// they go. A SUBSCRIBE with last-seq:0 on a node whose WS_MAX_REPLAY is
// larger replays every one of them, in order, once, byte for byte, with no
// RESUME_TRUNCATED notice (the archive holds what Redis dropped), then goes
// live. With the cap below the backlog (500) the replay stops there and the
// gap is announced as before. With PostgreSQL down the SUBSCRIBE still
// succeeds: a RESUME_TRUNCATED notice down to Redis's oldest message, then
// Redis's history, then live messages.
func TestResumeFromZeroReplaysTheArchive(t *testing.T) {
	s := newArchiveSetup(t)
	big := s.node(t, "node-big", 20000)
	capped := s.node(t, "node-capped", 500)
	r, _, err := s.rooms.CreateDirect(context.Background(), 8, 3)
	if err != nil {
		t.Fatal(err)
	}
	roomID := r.ID
	const total = 10000
	sent := s.fill(t, big.msgs, roomID, 8, total)
	if w := s.window(t, roomID); w.Oldest <= total-2*archiveHistoryLen || w.Newest != total {
		t.Fatalf("Redis holds seq %d..%d: the resume would not read the archive", w.Oldest, w.Newest)
	}
	live := total // the room's latest seq

	// The env helpers fail their env's test: the phases run in this one.
	{ // all of it
		c, _ := big.connect(3)
		start := time.Now()
		got := resumeFrom(t, c, "s", roomID, 0, total)
		t.Logf("replayed %d messages in %v", len(got.seqs), time.Since(start).Round(time.Millisecond))
		if len(got.notices) != 0 {
			t.Fatalf("notice %v %s: the archive holds every message", got.notices[0].Headers, got.notices[0].Body)
		}
		assertSeqs(t, got.seqs, 1, total)
		assertBodies(t, got, sent, 1, total)
		live = sendLive(t, big, roomID, 8, "live after the replay")
		f := c.expect("MESSAGE")
		if f.Value(gateway.TruncatedHeader) != "" || seqOf(t, f) != live {
			t.Fatalf("after the replay got %v %s, want the live message %d", f.Headers, f.Body, live)
		}
		c.noFrame(100 * time.Millisecond)
	}

	{ // capped at 500
		c, _ := capped.connect(3)
		got := resumeFrom(t, c, "s", roomID, 0, 500)
		if len(got.notices) != 0 {
			t.Fatalf("notice %v %s within the cap", got.notices[0].Headers, got.notices[0].Body)
		}
		assertSeqs(t, got.seqs, 1, 500)
		assertBodies(t, got, sent, 1, 500)
		c.noFrame(100 * time.Millisecond)
		live = sendLive(t, big, roomID, 8, "live after the capped replay")
		n := c.expect("MESSAGE")
		want := fmt.Sprintf(`{"type":"RESUME_TRUNCATED","chatRoomId":%d,"lastSeq":500,"oldestSeq":%d}`, roomID, live)
		if n.Value(gateway.TruncatedHeader) != "true" || string(n.Body) != want {
			t.Fatalf("notice %v %s, want %s", n.Headers, n.Body, want)
		}
		if seq := seqOf(t, c.expect("MESSAGE")); seq != live {
			t.Fatalf("after the notice seq %d, want the live %d", seq, live)
		}
	}

	{ // PostgreSQL down
		s.proxy.Down()
		w := s.window(t, roomID)
		oldest := w.Oldest
		if oldest <= 1 || w.Newest != int64(live) {
			t.Fatalf("Redis holds seq %d..%d, want a window below %d ending at %d", oldest, w.Newest, oldest, live)
		}
		c, _ := big.connect(3)
		got := resumeFrom(t, c, "s", roomID, 0, live)
		want := fmt.Sprintf(`{"type":"RESUME_TRUNCATED","chatRoomId":%d,"lastSeq":0,"oldestSeq":%d}`, roomID, oldest)
		if len(got.notices) != 1 || got.noticeAt[0] != 0 || string(got.notices[0].Body) != want {
			t.Fatalf("notices %d (first after %v messages), want one before the first message: %s", len(got.notices), got.noticeAt, want)
		}
		assertSeqs(t, got.seqs, int(oldest), live)
		assertBodies(t, got, sent, int(oldest), total)
		next := sendLive(t, big, roomID, 8, "live while PostgreSQL is down")
		if seq := seqOf(t, c.expect("MESSAGE")); seq != next {
			t.Fatalf("after the replay seq %d, want the live %d", seq, next)
		}
		if !strings.Contains(big.logs.String(), "resume: archive unavailable") {
			t.Fatal("the degraded resume was not logged")
		}
	}
}
