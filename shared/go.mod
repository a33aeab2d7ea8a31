module github.com/roomwire/roomwire/shared

go 1.26.8

toolchain go1.26.10

require (
	github.com/golang-jwt/jwt/v5 v5.3.1
	github.com/jackc/pgx/v5 v5.13.0
	github.com/redis/go-redis/v9 v9.23.0
	github.com/roomwire/roomwire/shared/testsupport/archivetest v0.0.0
	github.com/roomwire/roomwire/shared/testsupport/authtest v0.0.0
	github.com/roomwire/roomwire/shared/testsupport/redistest v0.0.0
	golang.org/x/time v0.16.0
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

// The test helper redistest is a module of its own (it imports "testing",
// which the production packages here must not); the tests here require it.
// The replace lets `go mod tidy` and GOWORK=off builds resolve it without a
// registry; go.work uses it too.
replace github.com/roomwire/roomwire/shared/testsupport/redistest => ./testsupport/redistest

// The same for the test helper authtest (test tokens and keys).
replace github.com/roomwire/roomwire/shared/testsupport/authtest => ./testsupport/authtest

// The same for the test helper archivetest (a private PostgreSQL database
// and an outage proxy).
replace github.com/roomwire/roomwire/shared/testsupport/archivetest => ./testsupport/archivetest
