package config

import (
	"crypto/rand"
	"encoding/base32"
	"time"
)

// idEncoding writes the random part of workflow IDs in lowercase base32
// without the letters people misread (i, l, o, u).
var idEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// UniqueWorkflowID returns prefix followed by t in UTC to the millisecond
// and 8 random characters (40 bits), such as
// "congressflow-pipeline-20261203T190102.123Z-4k7q2m9x". IDs of one
// prefix sort by start time, and two starts in the same millisecond still
// get different IDs.
func UniqueWorkflowID(prefix string, t time.Time) string {
	var b [5]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never returns an error
	return prefix + t.UTC().Format("20060102T150405.000Z") + "-" + idEncoding.EncodeToString(b[:])
}
