package load_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/roomwire/roomwire/shared/infra/auth"
	"github.com/roomwire/roomwire/tools/chatload/load"
)

var secret = []byte("load-test-secret")

func TestAPISeederPostsTheSeedRequests(t *testing.T) {
	var mu sync.Mutex
	var got []string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := auth.BearerToken(r.Header.Get("Authorization"))
		v, _ := auth.NewVerifier(auth.Config{Secret: secret})
		id, err := v.Verify(tok)
		if err != nil || r.URL.Path != "/api/v1/chat-rooms" || r.Method != http.MethodPost {
			http.Error(w, "bad", http.StatusUnauthorized)
			return
		}
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		b, _ := json.Marshal(body)
		mu.Lock()
		got = append(got, string(b)+" by "+strconv.FormatInt(id.UserID, 10))
		mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"id":42,"type":"direct"}`))
	}))
	defer api.Close()
	s := &load.APISeeder{BaseURL: api.URL, Secret: secret}
	id, err := s.CreateRoom(context.Background(), []int64{8, 3}, true, "")
	if err != nil || id != 42 {
		t.Fatalf("direct: %d, %v", id, err)
	}
	if _, err := s.CreateRoom(context.Background(), []int64{5, 6, 7}, false, "team"); err != nil {
		t.Fatal(err)
	}
	want := []string{`{"memberIds":[3],"type":"direct"} by 8`, `{"memberIds":[6,7],"name":"team","type":"group"} by 5`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("requests\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
