package load

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"time"
)

// Send schedules (Config.Schedule). Both send every publisher's messages
// at a fixed period (1/rate) from absolute times, so a late send does not
// shift the later ones; they differ in where each publisher's sends fall
// within the period.
const (
	// ScheduleEven is chatload's own: publisher i of n sends at i/n of the
	// period (near enough: workers take turns), so the members of a room,
	// which are neighbours in the publisher list, send within a few
	// hundred microseconds of each other.
	ScheduleEven = "even"
	// ScheduleRandom is an independent load client's: every publisher
	// sends from its own random phase in the period, so sends spread over
	// the period independently of each other and of their rooms.
	ScheduleRandom = "random"
)

// slot is one publisher's place in its worker's round: publisher pub sends
// at the phase start + at + k·period, k = 0, 1, ...
type slot struct {
	pub int
	at  time.Duration
}

// schedule assigns npub publishers to workers (publisher i to worker
// i mod workers) and gives each its offset within period, by kind; each
// worker's slots come in send order. rng draws the random phases.
func schedule(kind string, npub, workers int, period time.Duration, rng *rand.Rand) [][]slot {
	out := make([][]slot, workers)
	for k := range out {
		var list []slot
		for i := k; i < npub; i += workers {
			list = append(list, slot{pub: i})
		}
		if len(list) == 0 {
			continue
		}
		interval := period / time.Duration(len(list))
		for j := range list {
			if kind == ScheduleRandom {
				list[j].at = time.Duration(rng.Int64N(int64(period)))
			} else {
				list[j].at = interval*time.Duration(k)/time.Duration(workers) + time.Duration(j)*interval
			}
		}
		slices.SortStableFunc(list, func(a, b slot) int { return cmp.Compare(a.at, b.at) })
		out[k] = list
	}
	return out
}
