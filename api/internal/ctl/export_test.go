package ctl

// FormatPayload exposes formatPayload to the external tests.
var FormatPayload = formatPayload
