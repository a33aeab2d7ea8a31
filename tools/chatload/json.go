package main

import (
	"encoding/json"
	"io"

	"github.com/roomwire/roomwire/tools/chatload/load"
)

// writeJSON writes one result as a JSON line.
func writeJSON(w io.Writer, r load.Result) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
