// pg_ingest.allowed_directories: when set, the only directories (and their subdirectories) that
// sources may read from or archive into, whatever symbolic links lead there.
#pragma once

extern "C" {
#include "postgres.h"
#include "utils/guc.h"
}

namespace pg_ingest {

extern char *allowed_directories;

// GUC check hook: a comma-separated list of absolute directories (double quotes allow a comma in
// a name); empty for no restriction.
bool check_allowed_directories(char **newval, void **extra, GucSource source);

struct DirectoryAllowance {
    bool allowed;
    char *resolved;  // the directory with every symbolic link resolved (palloc'd)
};

// Whether `directory`, resolved, lies inside pg_ingest.allowed_directories. When the setting is
// empty it is allowed as it is, unresolved; otherwise an ERROR naming the source if it cannot be
// resolved.
DirectoryAllowance allowance_of(const char *source_name, const char *purpose,
                                const char *directory);

// The message refusing `directory` of a source that allowance_of found not allowed.
char *directory_refusal(const char *source_name, const char *purpose, const char *directory);

}  // namespace pg_ingest
