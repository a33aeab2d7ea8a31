module github.com/roomwire/roomwire/shared/testsupport/archivetest

go 1.26.8

toolchain go1.26.10

require (
	github.com/jackc/pgx/v5 v5.13.0
	github.com/redis/go-redis/v9 v9.23.0
	github.com/roomwire/roomwire/shared v0.0.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/puddle/v2 v2.2.3 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	golang.org/x/sync v0.22.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
	golang.org/x/text v0.41.0 // indirect
)

// The archive helpers (feed.go) use shared's archive, archiver and message
// store, and shared's tests use archivetest back: the replace lets `go mod
// tidy` and GOWORK=off builds resolve shared without a registry, as in
// redistest and authtest; go.work uses both too.
replace github.com/roomwire/roomwire/shared => ../..

// shared's tests that tidy looks at use redistest and authtest, modules
// beside this one.
replace (
	github.com/roomwire/roomwire/shared/testsupport/authtest => ../authtest
	github.com/roomwire/roomwire/shared/testsupport/redistest => ../redistest
)
