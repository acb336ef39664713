package pgext

// Package patterns used more than once.
const (
	pkgPostGIS = "postgresql-{major}-postgis-3"
	pkgPlperl  = "postgresql-plperl-{major}"
)

// defaultRecommended is the recommended profile: monitoring, text search
// and utility types for an ingest database. Every member gets an outcome:
// pg_walinspect reports not_available where the server version lacks it,
// and pg_cron (optional) where its package is not installed.
func defaultRecommended() []string {
	return []string{
		"pg_stat_statements", "pg_buffercache", "pg_prewarm",
		"pg_trgm", "btree_gin", "btree_gist",
		"citext", "hstore", "ltree",
		"fuzzystrmatch", "unaccent", "uuid-ossp", "pgcrypto",
		"amcheck", "pgstattuple", "pg_walinspect",
		"pg_cron",
	}
}

// defaultExtensions is the built-in catalog, in install order: an
// extension's requirements come before it. Contrib entries (names, trusted
// flags, requirements) match the control files of PostgreSQL 15 on Debian
// 12; the package tests check them against a running server. Third-party
// trusted flags are the packaged defaults as far as known; the installer
// goes by what the server reports.
func defaultExtensions() []Extension {
	return []Extension{
		// Monitoring.
		{Name: "pg_stat_statements", Category: CategoryMonitoring, Package: PackageContrib, Preload: "pg_stat_statements",
			Note: "tune: compute_query_id=auto, pg_stat_statements.max, track_io_timing"},
		{Name: "pg_buffercache", Category: CategoryMonitoring, Package: PackageContrib},
		{Name: "pg_qualstats", Category: CategoryMonitoring, Package: "postgresql-{major}-pg-qualstats", Preload: "pg_qualstats"},
		{Name: "pg_stat_kcache", Category: CategoryMonitoring, Package: "postgresql-{major}-pg-stat-kcache", Preload: "pg_stat_kcache",
			Requires: []string{"pg_stat_statements"}},
		{Name: "pg_wait_sampling", Category: CategoryMonitoring, Package: "postgresql-{major}-pg-wait-sampling", Preload: "pg_wait_sampling"},
		{Name: "pg_track_settings", Category: CategoryMonitoring, Package: "postgresql-{major}-pg-track-settings"},

		// Inspection of storage, WAL and locks.
		{Name: "pg_walinspect", Category: CategoryInspection, Package: PackageContrib, MinVersion: 15},
		{Name: "pgstattuple", Category: CategoryInspection, Package: PackageContrib},
		{Name: "pg_visibility", Category: CategoryInspection, Package: PackageContrib},
		{Name: "pg_freespacemap", Category: CategoryInspection, Package: PackageContrib},
		{Name: "pageinspect", Category: CategoryInspection, Package: PackageContrib},
		{Name: "pgrowlocks", Category: CategoryInspection, Package: PackageContrib},
		{Name: "old_snapshot", Category: CategoryInspection, Package: PackageContrib, MinVersion: 14, MaxVersion: 16},

		// Integrity and repair.
		{Name: "amcheck", Category: CategoryIntegrity, Package: PackageContrib},
		{Name: "pg_surgery", Category: CategoryIntegrity, Package: PackageContrib, MinVersion: 14},

		// Maintenance.
		{Name: "pg_prewarm", Category: CategoryMaintenance, Package: PackageContrib,
			Note: "list pg_prewarm in shared_preload_libraries to run the autoprewarm worker (optional)"},
		{Name: "pg_repack", Category: CategoryMaintenance, Package: "postgresql-{major}-repack",
			Note: "the pg_repack client of the same version runs the repack"},
		{Name: "pg_squeeze", Category: CategoryMaintenance, Package: "postgresql-{major}-squeeze", Repository: RepoPGDG, Preload: "pg_squeeze",
			Note: "needs wal_level=logical and a free replication slot"},
		{Name: "adminpack", Category: CategoryMaintenance, Package: PackageContrib, MaxVersion: 16},

		// Partitioning and scheduling.
		{Name: "pg_partman", Category: CategoryPartitioning, Package: "postgresql-{major}-partman",
			Note: "list pg_partman_bgw in shared_preload_libraries for its background maintenance (optional)"},
		{Name: "pg_cron", Category: CategoryScheduling, Package: "postgresql-{major}-cron", Preload: "pg_cron",
			Note: "can only be created in the database named by cron.database_name (default postgres)"},

		// Procedural languages.
		{Name: "plpgsql", Category: CategoryLanguages, Package: PackageBuiltin, Trusted: true},
		{Name: "plperl", Category: CategoryLanguages, Package: pkgPlperl, Trusted: true},
		{Name: "plperlu", Category: CategoryLanguages, Package: pkgPlperl},
		{Name: "pltcl", Category: CategoryLanguages, Package: "postgresql-pltcl-{major}", Trusted: true},
		{Name: "plpython3u", Category: CategoryLanguages, Package: "postgresql-plpython3-{major}"},
		{Name: "plpgsql_check", Category: CategoryLanguages, Package: "postgresql-{major}-plpgsql-check"},

		// Data types.
		{Name: "hstore", Category: CategoryDataTypes, Package: PackageContrib, Trusted: true},
		{Name: "citext", Category: CategoryDataTypes, Package: PackageContrib, Trusted: true},
		{Name: "ltree", Category: CategoryDataTypes, Package: PackageContrib, Trusted: true},
		{Name: "cube", Category: CategoryDataTypes, Package: PackageContrib, Trusted: true},
		{Name: "seg", Category: CategoryDataTypes, Package: PackageContrib, Trusted: true},
		{Name: "isn", Category: CategoryDataTypes, Package: PackageContrib, Trusted: true},
		{Name: "lo", Category: CategoryDataTypes, Package: PackageContrib, Trusted: true},
		{Name: "ip4r", Category: CategoryDataTypes, Package: "postgresql-{major}-ip4r"},
		{Name: "hll", Category: CategoryDataTypes, Package: "postgresql-{major}-hll"},
		{Name: "tdigest", Category: CategoryDataTypes, Package: "postgresql-{major}-tdigest"},
		{Name: "semver", Category: CategoryDataTypes, Package: "postgresql-{major}-semver"},
		{Name: "prefix", Category: CategoryDataTypes, Package: "postgresql-{major}-prefix"},
		{Name: "unit", Category: CategoryDataTypes, Package: "postgresql-{major}-unit"},

		// Index access methods and operator classes.
		{Name: "btree_gin", Category: CategoryIndexing, Package: PackageContrib, Trusted: true},
		{Name: "btree_gist", Category: CategoryIndexing, Package: PackageContrib, Trusted: true},
		{Name: "intarray", Category: CategoryIndexing, Package: PackageContrib, Trusted: true},
		{Name: "bloom", Category: CategoryIndexing, Package: PackageContrib},
		{Name: "rum", Category: CategoryIndexing, Package: "postgresql-{major}-rum"},

		// Text search and matching.
		{Name: "pg_trgm", Category: CategoryTextSearch, Package: PackageContrib, Trusted: true},
		{Name: "fuzzystrmatch", Category: CategoryTextSearch, Package: PackageContrib, Trusted: true},
		{Name: "unaccent", Category: CategoryTextSearch, Package: PackageContrib, Trusted: true},
		{Name: "dict_int", Category: CategoryTextSearch, Package: PackageContrib, Trusted: true},
		{Name: "dict_xsyn", Category: CategoryTextSearch, Package: PackageContrib},
		{Name: "pg_similarity", Category: CategoryTextSearch, Package: "postgresql-{major}-similarity"},

		// Crypto, security, auditing.
		{Name: "pgcrypto", Category: CategoryCrypto, Package: PackageContrib, Trusted: true},
		{Name: "uuid-ossp", Category: CategoryUtility, Package: PackageContrib, Trusted: true},
		{Name: "sslinfo", Category: CategorySecurity, Package: PackageContrib},
		{Name: "set_user", Category: CategorySecurity, Package: "postgresql-{major}-set-user",
			Note: "list set_user in shared_preload_libraries to block ALTER SYSTEM and COPY PROGRAM (optional)"},
		{Name: "pgaudit", Category: CategoryAuditing, Package: "postgresql-{major}-pgaudit", Preload: "pgaudit"},

		// Replication.
		{Name: "pglogical", Category: CategoryReplication, Package: "postgresql-{major}-pglogical", Preload: "pglogical",
			Note: "needs wal_level=logical, max_replication_slots and max_wal_senders"},

		// Foreign data wrappers.
		{Name: "postgres_fdw", Category: CategoryFDW, Package: PackageContrib},
		{Name: "dblink", Category: CategoryFDW, Package: PackageContrib},
		{Name: "file_fdw", Category: CategoryFDW, Package: PackageContrib},
		{Name: "mysql_fdw", Category: CategoryFDW, Package: "postgresql-{major}-mysql-fdw"},
		{Name: "tds_fdw", Category: CategoryFDW, Package: "postgresql-{major}-tds-fdw"},
		{Name: "ogr_fdw", Category: CategoryFDW, Package: "postgresql-{major}-ogr-fdw"},

		// Geography.
		{Name: "earthdistance", Category: CategoryGIS, Package: PackageContrib, Requires: []string{"cube"}},
		{Name: "postgis", Category: CategoryGIS, Package: pkgPostGIS,
			Note: "also install postgresql-{major}-postgis-3-scripts"},
		{Name: "postgis_raster", Category: CategoryGIS, Package: pkgPostGIS, Requires: []string{"postgis"}},
		{Name: "postgis_topology", Category: CategoryGIS, Package: pkgPostGIS, Requires: []string{"postgis"}},
		{Name: "postgis_tiger_geocoder", Category: CategoryGIS, Package: pkgPostGIS, Requires: []string{"postgis", "fuzzystrmatch"}},
		{Name: "address_standardizer", Category: CategoryGIS, Package: pkgPostGIS},

		// Planning.
		{Name: "hypopg", Category: CategoryPlanning, Package: "postgresql-{major}-hypopg"},
		{Name: "pg_hint_plan", Category: CategoryPlanning, Package: "postgresql-{major}-pg-hint-plan", Repository: RepoPGDG,
			Note: "takes effect after LOAD 'pg_hint_plan' or listing it in shared_ or session_preload_libraries"},

		// Table sampling.
		{Name: "tsm_system_rows", Category: CategorySampling, Package: PackageContrib, Trusted: true},
		{Name: "tsm_system_time", Category: CategorySampling, Package: PackageContrib, Trusted: true},

		// Trigger functions.
		{Name: "tcn", Category: CategoryTriggers, Package: PackageContrib, Trusted: true},
		{Name: "moddatetime", Category: CategoryTriggers, Package: PackageContrib},
		{Name: "autoinc", Category: CategoryTriggers, Package: PackageContrib},
		{Name: "insert_username", Category: CategoryTriggers, Package: PackageContrib},
		{Name: "refint", Category: CategoryTriggers, Package: PackageContrib},

		// Utilities.
		{Name: "tablefunc", Category: CategoryUtility, Package: PackageContrib, Trusted: true},
		{Name: "intagg", Category: CategoryUtility, Package: PackageContrib, Note: "deprecated: use array_agg and unnest"},
		{Name: "xml2", Category: CategoryUtility, Package: PackageContrib, Note: "deprecated: use the core XML functions"},
		{Name: "orafce", Category: CategoryCompatibility, Package: "postgresql-{major}-orafce"},
		{Name: "pgtap", Category: CategoryTesting, Package: "postgresql-{major}-pgtap"},

		// Vectors and time series (not in Debian's archive).
		{Name: "vector", Category: CategoryVectors, Package: "postgresql-{major}-pgvector", Repository: RepoPGDG},
		{Name: "timescaledb", Category: CategoryTimeSeries, Package: "timescaledb-2-postgresql-{major}", Repository: RepoTimescale,
			Preload: "timescaledb", Trusted: true},
	}
}
