// Package e2e holds the tests that run puente as a person would: real
// processes killed and restarted, and a real browser.
package e2e
