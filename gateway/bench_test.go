package gateway_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// pingRoundTrips sends n ping frames on c and reads n answers.
func pingRoundTrips(b *testing.B, c *websocket.Conn, n int) time.Duration {
	msg := []byte(`{"type":"ping"}`)
	start := time.Now()
	for i := 0; i < n; i++ {
		if err := c.WriteMessage(websocket.TextMessage, msg); err != nil {
			b.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(readWait))
		if _, _, err := c.ReadMessage(); err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(start)
}

// BenchmarkPingPong measures a ping→pong round trip on one connection and
// compares it with a bare gorilla echo server measured in the same run
// (target: ratio ≤ 1.5).
func BenchmarkPingPong(b *testing.B) {
	g := startGatewayB(b)
	gc, _, err := websocket.DefaultDialer.Dial(g.ws, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer gc.Close()
	gc.WriteJSON(map[string]string{"type": "auth"})
	gc.ReadMessage()

	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			kind, data, err := c.ReadMessage()
			if err != nil {
				return
			}
			if err := c.WriteMessage(kind, data); err != nil {
				return
			}
		}
	}))
	defer echo.Close()
	ec, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(echo.URL, "http"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer ec.Close()

	pingRoundTrips(b, gc, 200) // warm up both
	pingRoundTrips(b, ec, 200)
	b.ResetTimer()
	// Interleave in chunks so both see the same machine load.
	var gt, et time.Duration
	for done := 0; done < b.N; {
		n := min(500, b.N-done)
		gt += pingRoundTrips(b, gc, n)
		et += pingRoundTrips(b, ec, n)
		done += n
	}
	b.StopTimer()
	b.ReportMetric(float64(gt.Nanoseconds())/float64(b.N), "gateway-ns/rt")
	b.ReportMetric(float64(et.Nanoseconds())/float64(b.N), "echo-ns/rt")
	b.ReportMetric(float64(gt)/float64(et), "ratio")
}

// BenchmarkTurnOverhead measures message → response through the whole gateway
// (frame decode, lane queue, agent seam, marker parsing, encode, send) with a
// zero-latency agent double. Targets: p50 < 1 ms, p99 < 5 ms.
func BenchmarkTurnOverhead(b *testing.B) {
	g := startGatewayB(b)
	c, _, err := websocket.DefaultDialer.Dial(g.ws, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	c.WriteJSON(map[string]string{"type": "auth", "client_id": "bench"})
	c.ReadMessage()
	msg := []byte(`{"type":"message","text":"hello [FILE:/tmp/x.pdf]","session_id":"bench"}`)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if err := c.WriteMessage(websocket.TextMessage, msg); err != nil {
			b.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(readWait))
		_, data, err := c.ReadMessage()
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
		if !strings.Contains(string(data), `"type":"response"`) {
			b.Fatalf("got %s", data)
		}
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkIdleConnections holds OA_IDLE_CONNS (default 5,000) authenticated,
// idle connections opened by a child process, and reports the memory the
// gateway process gained (target: under 150 MB).
func BenchmarkIdleConnections(b *testing.B) {
	n := 5000
	if v := os.Getenv("OA_IDLE_CONNS"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	g := startGatewayB(b)
	runtime.GC()
	heap0, rss0 := memNow()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestIdleClientHelper$", "-test.v")
		cmd.Env = append(os.Environ(), "OA_IDLE_CLIENT_URL="+g.ws, "OA_IDLE_CLIENT_N="+strconv.Itoa(n))
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		sc := bufio.NewScanner(stdout)
		ready := false
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "READY ") {
				ready = true
				break
			}
		}
		if !ready {
			b.Fatal("client helper did not get ready")
		}
		deadline := time.Now().Add(30 * time.Second)
		for g.srv != nil && time.Now().Before(deadline) {
			if connected(g) >= n {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if got := connected(g); got < n {
			b.Fatalf("%d connected, want %d", got, n)
		}
		runtime.GC()
		heap1, rss1 := memNow()
		b.ReportMetric(float64(heap1-heap0)/(1<<20), "heap+stack-MB")
		b.ReportMetric(float64(rss1-rss0)/(1<<20), "rss-MB")
		b.ReportMetric(float64(heap1-heap0)/float64(n), "B/conn")
		stdin.Close()
		cmd.Wait()
	}
}

func connected(g *testGateway) int {
	resp, err := http.Get(g.url + "/api/health")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	var h struct {
		ConnectedClients int `json:"connected_clients"`
	}
	decodeJSONBody(resp, &h)
	return h.ConnectedClients
}

// TestIdleClientHelper is the client side of BenchmarkIdleConnections, run in
// a child process; it does nothing in a normal test run.
func TestIdleClientHelper(t *testing.T) {
	url := os.Getenv("OA_IDLE_CLIENT_URL")
	if url == "" {
		t.Skip("only runs as BenchmarkIdleConnections' child")
	}
	n, _ := strconv.Atoi(os.Getenv("OA_IDLE_CLIENT_N"))
	d := websocket.Dialer{NetDial: (&net.Dialer{}).Dial, ReadBufferSize: 256, WriteBufferSize: 256}
	conns := make([]*websocket.Conn, 0, n)
	for i := 0; i < n; i++ {
		c, _, err := d.Dial(url, nil)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		c.WriteJSON(map[string]string{"type": "auth", "client_id": fmt.Sprintf("idle-%d", i)})
		c.SetReadDeadline(time.Now().Add(readWait))
		if _, _, err := c.ReadMessage(); err != nil {
			t.Fatalf("auth %d: %v", i, err)
		}
		c.SetReadDeadline(time.Time{})
		conns = append(conns, c)
	}
	fmt.Printf("READY %d\n", len(conns))
	bufio.NewReader(os.Stdin).ReadString('\n') // until the parent closes stdin
	for _, c := range conns {
		c.Close()
	}
}

func memNow() (heapStack uint64, rss uint64) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if os.Getenv("OA_MEM_DEBUG") != "" {
		fmt.Fprintf(os.Stderr, "heap %d MB, stack %d MB, goroutines %d\n", ms.HeapInuse>>20, ms.StackInuse>>20, runtime.NumGoroutine())
	}
	heapStack = ms.HeapInuse + ms.StackInuse
	b, err := os.ReadFile("/proc/self/status")
	if err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
				kb, _ := strconv.ParseUint(f[1], 10, 64)
				rss = kb << 10
			}
		}
	}
	return heapStack, rss
}
