package events_test

import (
	"testing"

	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

var srv *redistest.Server

func TestMain(m *testing.M) { redistest.Main(m, &srv) }
