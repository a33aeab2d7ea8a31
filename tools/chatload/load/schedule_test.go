package load

import (
	"math/rand/v2"
	"testing"
	"time"
)

// checkSlots checks that every publisher appears once, within the period,
// and that each worker's slots come in time order.
func checkSlots(t *testing.T, slots [][]slot, npub int, period time.Duration) map[int]time.Duration {
	t.Helper()
	at := map[int]time.Duration{}
	for k, list := range slots {
		for j, s := range list {
			if s.pub%len(slots) != k {
				t.Fatalf("publisher %d on worker %d", s.pub, k)
			}
			if _, dup := at[s.pub]; dup {
				t.Fatalf("publisher %d scheduled twice", s.pub)
			}
			if s.at < 0 || s.at >= period {
				t.Fatalf("publisher %d at %s, outside [0, %s)", s.pub, s.at, period)
			}
			if j > 0 && s.at < list[j-1].at {
				t.Fatalf("worker %d: slot %d at %s before slot %d at %s", k, j, s.at, j-1, list[j-1].at)
			}
			at[s.pub] = s.at
		}
	}
	if len(at) != npub {
		t.Fatalf("%d publishers scheduled, want %d", len(at), npub)
	}
	return at
}

// TestSchedule: W2's 2,000 publishers (1,000 direct rooms, publishers 2i
// and 2i+1 in room i) over 4 workers, 1 msg/s. Both schedules spread the
// sends over the second; the even one puts a room's two members next to
// each other (their messages reach both connections together), the random
// one places them independently, as an independent client does.
func TestSchedule(t *testing.T) {
	const npub, workers, period = 2000, 4, time.Second
	tests := []struct {
		kind string
		// rooms whose two members send within 1 ms of each other: even,
		// all of them (0.5 ms apart); random, about 2 ms/1 s of them (2).
		minClose, maxClose int
	}{
		{ScheduleEven, 1000, 1000},
		{ScheduleRandom, 0, 20},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			at := checkSlots(t, schedule(tt.kind, npub, workers, period, rand.New(rand.NewPCG(1, 2))), npub, period)
			// Spread: every tenth of the period holds about a tenth of the
			// sends (random: 200 ± 3.5 standard deviations).
			var buckets [10]int
			for _, d := range at {
				buckets[d*10/period]++
			}
			for i, n := range buckets {
				if n < 150 || n > 250 {
					t.Fatalf("tenth %d of the period holds %d of %d sends: %v", i, n, npub, buckets)
				}
			}
			close := 0
			for room := range npub / 2 {
				if d := at[2*room+1] - at[2*room]; d > -time.Millisecond && d < time.Millisecond {
					close++
				}
			}
			if close < tt.minClose || close > tt.maxClose {
				t.Fatalf("%d rooms' members send within 1 ms of each other, want %d..%d", close, tt.minClose, tt.maxClose)
			}
		})
	}
}

func TestScheduleMorePublishersThanWorkersOrFewer(t *testing.T) {
	for _, kind := range []string{ScheduleEven, ScheduleRandom} {
		for _, npub := range []int{1, 3, 7} {
			slots := schedule(kind, npub, 4, time.Second, rand.New(rand.NewPCG(3, 4)))
			checkSlots(t, slots, npub, time.Second)
		}
	}
}
