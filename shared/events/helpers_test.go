package events_test

import (
	"testing"

	"github.com/roomwire/roomwire/shared/redistest"
)

var srv *redistest.Server

func TestMain(m *testing.M) { redistest.Main(m, &srv) }
