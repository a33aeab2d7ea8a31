package archivetest

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func dbName(t *testing.T, dbURL string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(u.Path, "/")
}

// TestNewDBDropsItsDatabase: the database exists, empty and usable, during
// the test and is gone once the test has ended, even with a connection
// still open.
func TestNewDBDropsItsDatabase(t *testing.T) {
	var name string
	t.Run("use", func(t *testing.T) {
		dbURL := NewDB(t)
		name = dbName(t, dbURL)
		if !strings.HasPrefix(name, Prefix) || len(name) != len(Prefix)+16 {
			t.Fatalf("database name %q", name)
		}
		if !Exists(t, name) {
			t.Fatalf("database %s missing during the test", name)
		}
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			t.Fatal(err)
		}
		// Left open on purpose: the drop must cut it.
		var db string
		var tables int
		err = conn.QueryRow(ctx, `SELECT current_database(),
			(SELECT count(*) FROM pg_tables WHERE schemaname = 'public')`).Scan(&db, &tables)
		if err != nil || db != name || tables != 0 {
			t.Fatalf("connected to %q with %d tables (%v), want %q and none", db, tables, err, name)
		}
	})
	if name == "" {
		t.Fatal("subtest did not create a database")
	}
	if Exists(t, name) {
		t.Fatalf("database %s still exists after its test", name)
	}
}

func TestNewDBNamesDiffer(t *testing.T) {
	a, b := NewDB(t), NewDB(t)
	if a == b {
		t.Fatalf("two databases share the URL %s", a)
	}
}

// TestProxyDownAndUp: through the proxy a query works; Down cuts the open
// connection and refuses new ones; Up lets a new connection work again.
func TestProxyDownAndUp(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dbURL := NewDB(t)
	p := NewProxy(t, dbURL)
	if !strings.Contains(p.URL(), p.Addr()) || dbName(t, p.URL()) != dbName(t, dbURL) {
		t.Fatalf("proxy URL %s, addr %s, database URL %s", p.URL(), p.Addr(), dbURL)
	}
	ping := func(conn *pgx.Conn) error {
		var one int
		return conn.QueryRow(ctx, "SELECT 1").Scan(&one)
	}
	conn, err := pgx.Connect(ctx, p.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if err := ping(conn); err != nil {
		t.Fatalf("through the proxy: %v", err)
	}

	p.Down()
	if err := ping(conn); err == nil {
		t.Fatal("a query on a connection opened before Down succeeded")
	}
	_, err = pgx.Connect(ctx, p.URL())
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("connect while down: %v, want connection refused", err)
	}

	p.Up()
	p.Up() // a no-op
	conn2, err := pgx.Connect(ctx, p.URL())
	if err != nil {
		t.Fatalf("connect after Up: %v", err)
	}
	defer conn2.Close(context.Background())
	if err := ping(conn2); err != nil {
		t.Fatalf("query after Up: %v", err)
	}
	p.Down()
	p.Down() // a no-op
}

func TestProxyRewrite(t *testing.T) {
	p := NewProxy(t, DefaultURL)
	got := p.Rewrite("postgres://u:secret@db.example:6543/x?sslmode=disable")
	want := "postgres://u:secret@" + p.Addr() + "/x?sslmode=disable"
	if got != want {
		t.Fatalf("Rewrite = %s, want %s", got, want)
	}
}
