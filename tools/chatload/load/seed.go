package load

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roomwire/roomwire/shared/chat/room"
	"github.com/roomwire/roomwire/shared/infra/auth"
)

// Seeder creates the rooms a run uses. members[0] creates the room; a room
// of two is a direct room, larger rooms are groups named name.
type Seeder interface {
	CreateRoom(ctx context.Context, members []int64, direct bool, name string) (roomID int64, err error)
}

// RoomStoreSeeder writes rooms straight into Redis through the shared room
// store, the same code the api runs: thousands of rooms per second.
type RoomStoreSeeder struct{ Rooms *room.Store }

var _ Seeder = RoomStoreSeeder{}

// CreateRoom creates (or, for a direct pair, finds) the room.
func (s RoomStoreSeeder) CreateRoom(ctx context.Context, members []int64, direct bool, name string) (int64, error) {
	if direct {
		if len(members) != 2 {
			return 0, fmt.Errorf("a direct room has 2 members, not %d", len(members))
		}
		r, _, err := s.Rooms.CreateDirect(ctx, members[0], members[1])
		return r.ID, err
	}
	r, err := s.Rooms.CreateGroup(ctx, members[0], name, members[1:])
	return r.ID, err
}

// APISeeder creates rooms over the REST API (POST /api/v1/chat-rooms) with
// tokens it mints for the creating member. Slower than RoomStoreSeeder, but
// it exercises the public API only.
type APISeeder struct {
	BaseURL string // e.g. http://127.0.0.1:8080
	Secret  []byte
	Client  *http.Client // default: 10 s timeout
}

var _ Seeder = (*APISeeder)(nil)

// CreateRoom posts {"type":"direct","memberIds":[x]} or
// {"type":"group","name":..,"memberIds":[..]} as members[0].
func (s *APISeeder) CreateRoom(ctx context.Context, members []int64, direct bool, name string) (int64, error) {
	token, err := auth.Mint(s.Secret, members[0], "", time.Hour)
	if err != nil {
		return 0, err
	}
	req := map[string]any{"type": "group", "name": name, "memberIds": members[1:]}
	if direct {
		req = map[string]any{"type": "direct", "memberIds": members[1:]}
	}
	body, _ := json.Marshal(req)
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(s.BaseURL, "/")+"/api/v1/chat-rooms", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	hr.Header.Set("Authorization", "Bearer "+token)
	hr.Header.Set("Content-Type", "application/json")
	hc := s.Client
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := hc.Do(hr)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		return 0, fmt.Errorf("POST chat-rooms: %s: %s", resp.Status, bytes.TrimSpace(b))
	}
	var out struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal(b, &out); err != nil || out.ID <= 0 {
		return 0, fmt.Errorf("POST chat-rooms: unexpected answer %.200s", b)
	}
	return out.ID, nil
}

// seedRooms creates every room with parallel workers and fills in ids.
func seedRooms(ctx context.Context, s Seeder, rooms []*roomState, direct bool, parallel int, runID uint32) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for range max(1, min(parallel, len(rooms))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(rooms) || ctx.Err() != nil {
					return
				}
				r := rooms[i]
				name := "load-" + strconv.FormatUint(uint64(runID), 10) + "-" + strconv.Itoa(i)
				id, err := s.CreateRoom(ctx, r.members, direct, name)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("create room %d of %d: %w", i+1, len(rooms), err)
					}
					mu.Unlock()
					return
				}
				r.id = id
			}
		}()
	}
	wg.Wait()
	return firstErr
}
