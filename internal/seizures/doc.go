// Package seizures is the work area of what each side takes off the
// street: drugs, firearms, ammunition, cash and other goods, recorded by
// the seizing agency, released to the partner by a supervisor (four eyes),
// and totalled into figures that both nodes compute alike from the
// released records. docs/seizures.md says how to use it; conversions and
// their sources are in convert.go.
package seizures
