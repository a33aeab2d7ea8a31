package keys

import (
	"strconv"
	"sync"
)

// ArchiveGroup is the consumer group in which the archiver reads the
// archive streams.
const ArchiveGroup = "archiver"

// clusterSlots is the number of hash slots of a Redis Cluster.
const clusterSlots = 16384

// ArchiveStream is the one archive stream of a single Redis or a Sentinel
// deployment: records of stored, edited and deleted messages ("type
// message") and of created rooms and changed members ("type room"), which
// the archiver copies into PostgreSQL. Capped with XADD MAXLEN ~.
func (s Space) ArchiveStream() string { return s.prefix + ":archive" }

// ArchiveSlotStream is the archive stream of one Redis Cluster hash slot
// (0..16383). Its hash tag is SlotTag(slot), so it lives on that very slot
// and the scripts of the slot's rooms append to it in the same atomic step
// as their own writes; the ":slot:<n>" suffix names the slot for people.
func (s Space) ArchiveSlotStream(slot int) string {
	return s.prefix + ":archive:{" + SlotTag(slot) + "}:slot:" + strconv.Itoa(slot)
}

// ArchiveStreamFor is the archive stream that receives room roomID's
// records: ArchiveSlotStream(RoomSlot(roomID)) when sharded (a Redis
// Cluster, events.Sharded), else ArchiveStream.
func (s Space) ArchiveStreamFor(roomID int64, sharded bool) string {
	if sharded {
		return s.ArchiveSlotStream(RoomSlot(roomID))
	}
	return s.ArchiveStream()
}

// RoomSlot is the Redis Cluster hash slot (0..16383) of every key of room
// roomID: the CRC16 of its hash tag's content (the decimal id) modulo
// 16384, as the Redis Cluster specification defines HASH_SLOT.
func RoomSlot(roomID int64) int {
	return int(crc16(strconv.AppendInt(nil, roomID, 10)) % clusterSlots)
}

// SlotTag returns a short string whose hash slot is slot (0..16383): a
// hash tag that puts a key on that slot. The tags are the first strings
// over [a-z0-9], shortest first, that hash to each slot (at most 4
// characters); the table is computed on first use (a few milliseconds)
// and shared. It panics for a slot out of range.
func SlotTag(slot int) string {
	slotTags.once.Do(fillSlotTags)
	return slotTags.tags[slot]
}

var slotTags struct {
	once sync.Once
	tags []string
}

// fillSlotTags searches the strings over [a-z0-9] by growing length until
// every slot has one.
func fillSlotTags() {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	tags := make([]string, clusterSlots)
	left := clusterSlots
	buf := make([]byte, 0, 8)
	var walk func(n int) bool // fills tags with the strings of n more characters after buf
	walk = func(n int) bool {
		if n == 0 {
			if slot := crc16(buf) % clusterSlots; tags[slot] == "" {
				tags[slot] = string(buf)
				left--
			}
			return left == 0
		}
		for i := 0; i < len(alphabet); i++ {
			buf = append(buf, alphabet[i])
			done := walk(n - 1)
			buf = buf[:len(buf)-1]
			if done {
				return true
			}
		}
		return false
	}
	for n := 1; !walk(n); n++ {
	}
	slotTags.tags = tags
}

// crc16 is CRC16-XMODEM (polynomial 0x1021, initial value 0), the checksum
// of Redis Cluster's key slots.
func crc16(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc = crc<<8 ^ crc16Table[byte(crc>>8)^c]
	}
	return crc
}

var crc16Table = func() (t [256]uint16) {
	for i := range t {
		crc := uint16(i) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
		t[i] = crc
	}
	return t
}()
