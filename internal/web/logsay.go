package web

import (
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"puente/internal/api"
	"puente/internal/auth"
	"puente/internal/trustlog"
)

// logLine is a log entry as the auditor reads it: a sentence in the
// page's language ("Ana Martínez (UIF) read the envelope …"), the object
// linked when it has a page, and the raw entry beside it.
type logLine struct {
	api.LogEntry
	// Before and After are the sentence around the object; Said is false
	// for a kind without a sentence (the raw entry says it).
	Before, After string
	Said          bool
	ObjectText    string
	ObjectLink    string
}

// coreLogKinds are the kinds of log entry the node's core writes; the
// areas name theirs in Face.LogKinds. Each has a sentence log.say.<kind>.
var coreLogKinds = []string{trustlog.KindAgreement, trustlog.KindAlarmAcked, trustlog.KindDataEvidential, trustlog.KindDataExported,
	trustlog.KindDataPassedOn, trustlog.KindDataRead, trustlog.KindDataRefused, trustlog.KindEnvelopeReceived, trustlog.KindEnvelopeRejected,
	trustlog.KindEnvelopeSent, trustlog.KindReceipt, trustlog.KindTokenCreated, trustlog.KindTokenRevoked, trustlog.KindUserChanged,
	trustlog.KindUserCreated}

// objectPages are the pages of the objects entries name ("trace:ID").
var objectPages = map[string]string{
	"trace": "/traces/t/", "training": "/training/o/", "certificate": "/training/certificates/", "disclosure": "/finintel/d/",
	"target": "/extradition/targets/t/", "case": "/extradition/cases/c/", "operation": "/operations/o/", "seizure": "/seizures/s/",
	"rfi": "/finintel/r/", "thread": "/threads/", "op": "/operations/o/",
}

// logLines says each entry in v's language. names are the node's users'
// display names by username; kinds, the kinds that have a sentence.
func logLines(v *view, entries []api.LogEntry, names map[string]string, kinds []string) []logLine {
	const mark = "\x00"
	out := make([]logLine, 0, len(entries))
	for _, e := range entries {
		l := logLine{LogEntry: e}
		kind, id, _ := strings.Cut(e.Object, ":")
		l.ObjectText = v.T("log.object."+kind, "ID", shortID(id))
		if l.ObjectText == "log.object."+kind {
			l.ObjectText = e.Object
		}
		if page, ok := objectPages[kind]; ok && id != "" {
			l.ObjectLink = page + url.PathEscape(id)
		}
		if slices.Contains(kinds, e.Kind) {
			s := v.T("log.say."+e.Kind, "Actor", actorName(v, e.Actor, names), "Object", mark)
			l.Before, l.After, _ = strings.Cut(s, mark)
			l.Before = upperFirst(l.Before)
			l.Said = true
		}
		out = append(out, l)
	}
	return out
}

// upperFirst starts a sentence with a capital ("the US node…" → "The…").
func upperFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

func shortID(id string) string {
	if len(id) > 10 {
		return id[:8] + "…"
	}
	return id
}

// actorName is who did it: a user of this node by name and agency, a
// user of the partner by username and agency, a node, the system.
func actorName(v *view, actor string, names map[string]string) string {
	kind, rest, _ := strings.Cut(actor, ":")
	switch kind {
	case "user":
		user, agency, _ := strings.Cut(rest, "@")
		if n, ok := names[user]; ok {
			return n + " (" + agency + ")"
		}
		return user + " (" + agency + ")"
	case "node":
		return v.T("log.actor.node", "Party", rest)
	case "system":
		return v.T("log.actor.system")
	}
	return actor
}

// userNames are the node's users' display names by username.
func userNames(users []*auth.User) map[string]string {
	out := make(map[string]string, len(users))
	for _, u := range users {
		out[u.Username] = u.DisplayName
	}
	return out
}
