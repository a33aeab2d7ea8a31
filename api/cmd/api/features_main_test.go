package main

import (
	"strings"
	"testing"
	"time"
)

func TestLoadFeatureSettings(t *testing.T) {
	st, err := load(func(k string) string { return map[string]string{"DEV_MODE": "1"}[k] })
	if err != nil {
		t.Fatal(err)
	}
	if st.editWindow != 15*time.Minute || st.outboxMaxLen != 100 {
		t.Fatalf("defaults: edit window %v, outbox %d", st.editWindow, st.outboxMaxLen)
	}
	vars := map[string]string{"DEV_MODE": "1", "EDIT_WINDOW": "90s", "NOTIFY_OUTBOX_MAXLEN": "500"}
	if st, err = load(func(k string) string { return vars[k] }); err != nil {
		t.Fatal(err)
	}
	if st.editWindow != 90*time.Second || st.outboxMaxLen != 500 {
		t.Fatalf("set: edit window %v, outbox %d", st.editWindow, st.outboxMaxLen)
	}
	for k, v := range map[string]string{"EDIT_WINDOW": "soon", "NOTIFY_OUTBOX_MAXLEN": "0"} {
		_, err := load(func(name string) string { return map[string]string{"DEV_MODE": "1", k: v}[name] })
		if err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%s: err %v", k, v, err)
		}
	}
}
