// Package traces is the work area of firearm traces: a side whose police
// recovered a gun asks the side that traces (the agreement's commitment
// traces_firearms) where it was first sold, on the fields of ATF Form
// 3312.1. A completeness check names what would make the trace fail
// before it is sent; a state or municipal police unit prepares a trace
// that the federal prosecutor's office sponsors; the tracing side works
// it and returns the result, with the time-to-crime, over the link.
// docs/traces.md says how to use it.
package traces
