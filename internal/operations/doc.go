// Package operations is the mirror-operations work area: paired
// operations on both sides of the border, planned by one side, released
// by a second pair of eyes and accepted, declined or countered by the
// partner; unilateral operations that never leave the node; blind
// deconfliction of both against the partner's (space-time cells and
// targets compared through the blind-matching index, so neither side
// learns the other's operations); a live board of units' status reports,
// also served as Cursor-on-Target; and each side's after-action report.
//
// An operation is kept as one document (Operation) with a few columns to
// list it by. A joint operation's document is the same on both nodes, but
// for the units a side chose not to share and the targets, which never
// cross.
package operations
