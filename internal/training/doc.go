// Package training is the work area of joint training and exercises: a
// coordinator of either side drafts a course, exercise, exchange or
// seminar and a second publishes it (four eyes); the partner nominates
// participants, whom the offering side vets (Leahy vetting of US-funded
// training) before a seat is confirmed; attendance, results and, for
// those who passed, certificates signed by the offering node that anyone
// with the agreement verifies offline; an exercise's units, resources and
// after-action reports from both sides. Every step crosses the link and is
// applied by one rule on both nodes, so the figures are the same on both.
// docs/training.md says how to use it; the certificate format is there.
package training
