// Package ctl implements chatctl, the operator's command line: minting
// development tokens, reading the session registry, kicking a session,
// posting a system message, tailing a room, listing the offline outbox,
// migrating the archive and restoring Redis from it,
// and probing a health endpoint.
package ctl

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/roomwire/roomwire/shared/infra/auth"
	"github.com/roomwire/roomwire/shared/infra/config"
)

// ErrUsage means the command line was wrong; the usage has been printed.
var ErrUsage = errors.New("usage error")

// ErrNoSecret means "chatctl token" has no HMAC secret to sign with: only
// public keys are configured, whose private halves live with the issuer.
var ErrNoSecret = errors.New("cannot mint a token: JWT_SECRET is unset and only public keys (JWT_PUBLIC_KEY_FILE / JWT_JWKS_URL) are configured; tokens come from the issuer holding the private key")

// errHelp means a command's -h printed its flags; Run then returns nil.
var errHelp = errors.New("help requested")

// Usage is printed by "chatctl help" and on usage errors.
const Usage = `usage: chatctl <command> [flags]

commands:
  token -user ID [-name NAME] [-ttl 24h]
      print an HS256 token for user ID, signed with JWT_SECRET (or the
      public development secret when DEV_MODE=1 and JWT_SECRET is unset);
      refused when only JWT_PUBLIC_KEY_FILE / JWT_JWKS_URL are set
  sessions -room ID | -user ID
      print the live sessions of a room or a user as JSON lines, read from
      the registry at REDIS_URL under REDIS_PREFIX
  kick -session SID [-reason TEXT]
      remove session SID from the registry and tell its ws node to close
      it (the path of the disconnect API); exit 1 if SID is unknown
  say -room ID -text TEXT [-as USER]
      send TEXT into room ID through the one send path, as member USER
      (default: the room's creator); subscribers get it like any message
  tail -room ID [-events]
      print the room's messages (and with -events its events) as readable
      lines until interrupted
  outbox [-limit 100] | outbox -user ID
      print the users with offline notification records waiting for a
      push worker (userId, claimableFrom, records), or one user's records,
      as JSON lines; claims nothing
  migrate
      apply the archive's schema migrations to ARCHIVE_DATABASE_URL (the
      archiver does it at start too)
  restore [-recent 1000] [-force]
      reload rooms, members and each room's newest -recent messages from
      the archive (ARCHIVE_DATABASE_URL) into an empty Redis, after a
      Redis loss; -force overwrites the archived rooms in a Redis that
      holds rooms
  healthcheck URL
      exit 0 if GET URL answers 200 within 2s, else 1 (for container
      health checks in images without a shell)
  help
      print this text
`

// Run runs the command in args (without the program name), reading
// settings through getenv and printing results to stdout, diagnostics to
// stderr.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, Usage)
		return ErrUsage
	}
	var err error
	switch args[0] {
	case "token":
		err = token(args[1:], getenv, stdout, stderr)
	case "sessions":
		err = sessions(ctx, args[1:], getenv, stdout, stderr)
	case "kick":
		err = kick(ctx, args[1:], getenv, stdout, stderr)
	case "say":
		err = say(ctx, args[1:], getenv, stdout, stderr)
	case "tail":
		err = tail(ctx, args[1:], getenv, stdout, stderr)
	case "outbox":
		err = outbox(ctx, args[1:], getenv, stdout, stderr)
	case "migrate":
		err = migrate(ctx, args[1:], getenv, stdout, stderr)
	case "restore":
		err = restore(ctx, args[1:], getenv, stdout, stderr)
	case "healthcheck":
		err = healthcheck(ctx, args[1:], stderr)
	case "help", "-h", "-help", "--help":
		_, err = fmt.Fprint(stdout, Usage)
	default:
		fmt.Fprintf(stderr, "chatctl: unknown command %q\n%s", args[0], Usage)
		err = ErrUsage
	}
	if errors.Is(err, errHelp) {
		return nil
	}
	return err
}

// token mints a token: chatctl token -user 8 [-name Alice] [-ttl 24h].
func token(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flagSet("token", stderr)
	user := fs.Int64("user", 0, "user id (required, positive)")
	name := fs.String("name", "", "display name claim")
	ttl := fs.Duration("ttl", 24*time.Hour, "validity")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *user <= 0 || *ttl <= 0 {
		fmt.Fprintln(stderr, "chatctl token: -user must be positive and -ttl must be positive")
		return ErrUsage
	}
	c, err := config.Load(getenv)
	if err != nil {
		return err
	}
	if len(c.JWTSecret) == 0 {
		// Only public keys (JWT_PUBLIC_KEY_FILE / JWT_JWKS_URL) are
		// configured: the services verify tokens another party signs,
		// and chatctl holds no key to sign with.
		return ErrNoSecret
	}
	tok, err := auth.Mint(c.JWTSecret, *user, *name, *ttl)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}

func flagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("chatctl "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parse parses flags and refuses positional arguments.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return ErrUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return ErrUsage
	}
	return nil
}
