package storetest_test

import (
	"path/filepath"
	"testing"

	"puente/internal/store/storetest"
	"puente/internal/testenv"
)

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) string { return filepath.Join(t.TempDir(), "puente.db") })
}

func TestPostgres(t *testing.T) {
	testenv.PostgresSchema(t) // skip or fail before the suite starts
	storetest.Run(t, func(t *testing.T) string { return testenv.PostgresSchema(t) })
}
