// Package pgext knows which PostgreSQL extensions congressflow can install
// and installs them.
//
// The [Catalog] lists each extension with its category, the Debian package
// that provides it, whether it must be listed in shared_preload_libraries,
// whether it is trusted (creatable by a non-superuser with CREATE on the
// database) and the extensions it requires. [Catalog.Resolve] turns a profile
// ("recommended", "all") and explicit names into an ordered list, and
// [Catalog.PreloadLibraries] tells the tune stage which libraries to merge
// into shared_preload_libraries.
//
// [Catalog.Install] probes the server once (version, role, privileges,
// loaded libraries, pg_available_extensions) and then works out one
// [Result] per extension, in catalog order: already present, not available
// (with the package to install), not permitted (with the privilege
// missing), needs preload (the tune stage adds the library, a restart loads
// it, the next run installs it), installed, or failed with the server's
// error. One extension's failure never stops the others.
package pgext
