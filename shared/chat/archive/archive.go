// Package archive keeps room history durably in PostgreSQL (issue #16).
//
// Redis stays the hot path; the archiver copies every message version and
// every room's members here, and api and ws read history older than Redis
// holds from here (Store.Range satisfies messages.Archive). A Store is safe
// for concurrent use by many goroutines.
//
// The schema is created by Migrate from the SQL files embedded under
// migrations/; Open never changes it.
package archive

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Config shapes a Store; zero fields take the documented defaults.
type Config struct {
	// MaxConns is the most connections the pool opens [8]. It takes the
	// place of a pool_max_conns parameter in the URL.
	MaxConns int32
	// QueryTimeout bounds each call of a Store method (one query or one
	// transaction, with the wait for a free connection) [5s]; Migrate is
	// bounded by its context only.
	QueryTimeout time.Duration
	// Lazy skips Open's ping: a reader (the api, a ws node) starts while
	// PostgreSQL is down, and its reads fail until it is back.
	Lazy bool
}

func (c Config) withDefaults() Config {
	if c.MaxConns <= 0 {
		c.MaxConns = 8
	}
	if c.QueryTimeout <= 0 {
		c.QueryTimeout = 5 * time.Second
	}
	return c
}

// Store is the archive in one PostgreSQL database, behind a pgxpool.
type Store struct {
	pool  *pgxpool.Pool
	cfg   Config
	where string // host:port/database, for errors (no password)
}

// Open connects a pool to the database at url (a postgres:// URL or a
// key=value connection string, as pgx parses it) and pings it (unless
// Config.Lazy). It does not
// migrate; call Migrate where the schema may be created (the archiver).
func Open(ctx context.Context, url string, cfg Config) (*Store, error) {
	cfg = cfg.withDefaults()
	pc, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's parse errors leave the password out.
		return nil, fmt.Errorf("archive: parse database URL: %w", err)
	}
	pc.MaxConns = cfg.MaxConns
	if pc.MinConns > pc.MaxConns {
		pc.MinConns = pc.MaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("archive: open pool: %w", err)
	}
	cc := pc.ConnConfig
	s := &Store{pool: pool, cfg: cfg, where: fmt.Sprintf("%s:%d/%s", cc.Host, cc.Port, cc.Database)}
	if cfg.Lazy {
		return s, nil
	}
	if err := s.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// Ping checks that the database answers, within QueryTimeout.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("archive: ping %s: %w", s.where, err)
	}
	return nil
}

// Close closes every connection of the pool, waiting for those in use to
// be returned.
func (s *Store) Close() { s.pool.Close() }

// bound applies QueryTimeout to one call.
func (s *Store) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.cfg.QueryTimeout)
}
