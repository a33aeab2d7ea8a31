package load

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Result is what one phase (or the idle hold) measured. It is written as
// one JSON object per line by chatload -json.
type Result struct {
	Name  string `json:"name"`
	Date  string `json:"date"`
	Mode  string `json:"mode"` // "idle" or "publish"
	Phase int    `json:"phase"`

	Conns      int `json:"conns"`
	Rooms      int `json:"rooms"`
	RoomSize   int `json:"roomSize"`
	Publishers int `json:"publishersPerRoom"`
	Payload    int `json:"payloadBytes"`
	// The slow-reader options (Config.SlowReaders, ReadDelay, RcvBuf).
	SlowReaders int     `json:"slowReaders,omitempty"`
	ReadDelayMs float64 `json:"readDelayMs,omitempty"`
	RcvBuf      int     `json:"rcvbuf,omitempty"`

	Connected     int     `json:"connected"`
	ConnectFailed int     `json:"connectFailed"`
	Subscribed    int     `json:"subscribed"`
	ConnectS      float64 `json:"connectS"`    // first dial to last CONNECTED
	SubscribedS   float64 `json:"subscribedS"` // first dial to last SUBSCRIBE receipt
	ConnectP50Ms  float64 `json:"connectP50Ms"`
	ConnectP99Ms  float64 `json:"connectP99Ms"`
	ConnectMaxMs  float64 `json:"connectMaxMs"`
	// CPU spent from the first dial to the last subscription receipt, and
	// (server + Redis) per connection: auth, registry, subscription.
	ConnectServerCPUS float64 `json:"connectServerCpuS"`
	ConnectRedisCPUS  float64 `json:"connectRedisCpuS"`
	ConnectClientCPUS float64 `json:"connectClientCpuS"`
	CPUPerConnectUs   float64 `json:"cpuUsPerConnect"`

	RatePerPublisher float64 `json:"ratePerPublisher"`
	TotalRate        float64 `json:"totalRate"`
	DurationS        float64 `json:"durationS"`
	SentPerS         float64 `json:"sentPerS"`
	Sent             uint64  `json:"sent"`
	SendFailed       uint64  `json:"sendFailed"`
	Expected         uint64  `json:"expected"` // sent × confirmed subscribers of the room, sender included
	Received         uint64  `json:"received"` // deliveries of this phase within the drain time
	Lost             uint64  `json:"lost"`
	LostPct          float64 `json:"lostPct"`
	Duplicates       uint64  `json:"duplicates"`             // per subscriber, by seq
	Gaps             uint64  `json:"gaps"`                   // seqs skipped by a subscriber
	Late             uint64  `json:"late"`                   // arrived after their phase's drain
	Foreign          uint64  `json:"foreign"`                // not stamped by this run
	SendReceipts     uint64  `json:"sendReceipts,omitempty"` // RECEIPTs of SENDs (Config.Send.Receipt)
	Disconnected     int     `json:"disconnected"`
	WindowS          float64 `json:"windowS"` // first send to last delivery
	DeliveriesPerS   float64 `json:"deliveriesPerS"`
	LatP50Ms         float64 `json:"latP50Ms"`
	LatP90Ms         float64 `json:"latP90Ms"`
	LatP99Ms         float64 `json:"latP99Ms"`
	LatMaxMs         float64 `json:"latMaxMs"`
	LatMeanMs        float64 `json:"latMeanMs"`

	MeasuredS              float64 `json:"measuredS"` // wall time between the /proc samples
	ServerCPUS             float64 `json:"serverCpuS"`
	RedisCPUS              float64 `json:"redisCpuS"`
	ClientCPUS             float64 `json:"clientCpuS"`
	CPUPerDeliveryUs       float64 `json:"cpuUsPerDelivery"` // (server + Redis) CPU / received
	ServerCPUPerDeliveryUs float64 `json:"serverCpuUsPerDelivery"`

	BaseServerRSSKiB int64   `json:"baseServerRssKiB"`
	BaseRedisRSSKiB  int64   `json:"baseRedisRssKiB"`
	ServerRSSKiB     int64   `json:"serverRssKiB"`
	RedisRSSKiB      int64   `json:"redisRssKiB"`
	ClientRSSKiB     int64   `json:"clientRssKiB"`
	RSSDeltaKiB      int64   `json:"rssDeltaKiB"` // server + Redis, end of window minus before connecting
	KBPerConn        float64 `json:"kbPerConn"`   // RSSDelta (in kB) / connected
	ServerKBPerConn  float64 `json:"serverKbPerConn"`

	Errors      int      `json:"errors"`
	FirstErrors []string `json:"firstErrors,omitempty"`
}

// Summary is a human-readable multi-line account of r.
func (r Result) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s phase %d: %d/%d connected in %.2fs (p50 %.1fms p99 %.1fms), %d subscribed in %.2fs\n",
		r.Name, r.Mode, r.Phase, r.Connected, r.Conns, r.ConnectS, r.ConnectP50Ms, r.ConnectP99Ms, r.Subscribed, r.SubscribedS)
	fmt.Fprintf(&b, "  connecting took CPU: server %.2fs, redis %.2fs, client %.2fs: %.0f CPU-µs per connection (server + Redis)\n",
		r.ConnectServerCPUS, r.ConnectRedisCPUS, r.ConnectClientCPUS, r.CPUPerConnectUs)
	if r.Mode == "publish" {
		fmt.Fprintf(&b, "  rate %.4g msg/s per publisher (%.5g total, achieved %.5g) for %.0fs, payload %dB\n",
			r.RatePerPublisher, r.TotalRate, r.SentPerS, r.DurationS, r.Payload)
		fmt.Fprintf(&b, "  sent %d (failed %d), expected %d, received %d, lost %d (%.2f%%), duplicates %d, gaps %d, late %d, foreign %d, disconnected %d\n",
			r.Sent, r.SendFailed, r.Expected, r.Received, r.Lost, r.LostPct, r.Duplicates, r.Gaps, r.Late, r.Foreign, r.Disconnected)
		if r.SendReceipts > 0 {
			fmt.Fprintf(&b, "  %d SEND receipts\n", r.SendReceipts)
		}
		fmt.Fprintf(&b, "  latency p50 %.2fms p90 %.2fms p99 %.2fms max %.2fms; %.0f deliveries/s\n",
			r.LatP50Ms, r.LatP90Ms, r.LatP99Ms, r.LatMaxMs, r.DeliveriesPerS)
	}
	fmt.Fprintf(&b, "  CPU over %.1fs: server %.2fs, redis %.2fs, client %.2fs", r.MeasuredS, r.ServerCPUS, r.RedisCPUS, r.ClientCPUS)
	if r.Mode == "publish" {
		fmt.Fprintf(&b, "; %.1f CPU-µs per delivery (server alone %.1f)", r.CPUPerDeliveryUs, r.ServerCPUPerDeliveryUs)
	}
	fmt.Fprintf(&b, "\n  RSS: server %.1f MiB, redis %.1f MiB (+%.1f MiB since before connecting): %.1f KB per connection (server alone %.1f)\n",
		float64(r.ServerRSSKiB)/1024, float64(r.RedisRSSKiB)/1024, float64(r.RSSDeltaKiB)/1024, r.KBPerConn, r.ServerKBPerConn)
	if r.Errors > 0 {
		fmt.Fprintf(&b, "  %d errors, first: %s\n", r.Errors, strings.Join(r.FirstErrors, "; "))
	}
	return b.String()
}

// ReadResults reads JSON lines of Results (other lines are skipped).
func ReadResults(rd io.Reader) ([]Result, error) {
	var out []Result
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var r Result
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			return out, fmt.Errorf("result line: %w", err)
		}
		out = append(out, r)
	}
	return out, sc.Err()
}

// WriteTable prints results as one aligned table: one row per phase.
func WriteTable(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "workload\tconns\tconnect s\tp50/p99 ms\tCPU-µs/conn\tmsg/s\tdeliv/s\tlost\tdup\tlat p50\tp90\tp99\tmax ms\tCPU-µs/deliv\tKB/conn\t")
	for _, r := range results {
		name := r.Name
		if r.Mode == "publish" {
			name = fmt.Sprintf("%s @%.5g/s", r.Name, r.TotalRate)
		}
		conns := fmt.Sprintf("%d", r.Connected)
		if r.Connected != r.Conns {
			conns = fmt.Sprintf("%d/%d", r.Connected, r.Conns)
		}
		head := fmt.Sprintf("%s\t%s\t%.2f\t%.1f/%.1f\t%.0f\t", name, conns, r.ConnectS, r.ConnectP50Ms, r.ConnectP99Ms, r.CPUPerConnectUs)
		if r.Mode == "idle" {
			fmt.Fprintf(tw, "%s-\t-\t-\t-\t-\t-\t-\t-\t-\t%.1f\t\n", head, r.KBPerConn)
			continue
		}
		lost := fmt.Sprintf("%d", r.Lost)
		if r.Lost > 0 {
			lost = fmt.Sprintf("%d (%.2f%%)", r.Lost, r.LostPct)
		}
		fmt.Fprintf(tw, "%s%.0f\t%.0f\t%s\t%d\t%.2f\t%.2f\t%.2f\t%.1f\t%.1f\t%.1f\t\n", head,
			r.SentPerS, r.DeliveriesPerS, lost, r.Duplicates,
			r.LatP50Ms, r.LatP90Ms, r.LatP99Ms, r.LatMaxMs, r.CPUPerDeliveryUs, r.KBPerConn)
	}
	return tw.Flush()
}
