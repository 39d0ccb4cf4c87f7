package web

import (
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"puente/internal/api"
	"puente/internal/auth"
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

// logKinds are the entry kinds that have a sentence (log.say.<kind>).
// (One text: the kinds are log kinds, not translation keys.)
var logKinds = strings.Fields(`
	agreement.installed alarm.acknowledged data.evidential data.exported data.passed_on data.read data.refused
	envelope.received envelope.rejected envelope.sent receipt.received token.created token.revoked user.changed
	user.created extradition.case.assurance extradition.case.document extradition.case.opened extradition.case.received extradition.case.stage
	extradition.clock.overdue extradition.clock.warned extradition.target.acknowledged extradition.target.added
	extradition.target.changed extradition.target.nominated extradition.target.received
	extradition.target.released extradition.target.returned extradition.target.submitted
	extradition.target.updated finintel.consent_decided finintel.rfi_reminder finintel.released finintel.sealed liaison.read
	match.bulk_evaluated match.bulk_finished match.bulk_started match.evaluated match.filter match.key_rotated
	match.lookup match.probe match.probed operations.after_action operations.answered operations.changed
	operations.conflict operations.conflict_ack operations.conflict_escalated operations.conflict_resolved
	operations.drafted operations.registered operations.released operations.report operations.step
	seizures.imported seizures.received seizures.recorded seizures.released seizures.returned seizures.submitted
	subjects.imported traces.changed traces.merged traces.prepared traces.received traces.step traces.submitted
	training.certificate.issued training.certificate.revoked training.drafted training.published training.received
	training.step`)

// objectPages are the pages of the objects entries name ("trace:ID").
var objectPages = map[string]string{
	"trace": "/traces/t/", "training": "/training/o/", "certificate": "/training/certificates/", "disclosure": "/finintel/d/",
	"target": "/extradition/targets/t/", "case": "/extradition/cases/c/", "operation": "/operations/o/", "seizure": "/seizures/s/",
	"rfi": "/finintel/r/", "thread": "/threads/", "op": "/operations/o/",
}

// logLines says each entry in v's language. names are the node's users'
// display names by username.
func logLines(v *view, entries []api.LogEntry, names map[string]string) []logLine {
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
		if slices.Contains(logKinds, e.Kind) {
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
