#include "pg/access/allowed_directories.hpp"

#include "core/discovery/path_containment.hpp"
#include "pg/support/pg_guard.hpp"

#include <optional>
#include <string>
#include <vector>

extern "C" {
#include <limits.h>

#include "nodes/pg_list.h"
#include "utils/varlena.h"
}

namespace pg_ingest {

char *allowed_directories = nullptr;

namespace {

// The entries of the setting; never fails, the check hook has vetted it.
List *allowed_entries() {
    List *entries = NIL;
    if (allowed_directories == nullptr) return NIL;
    if (!SplitDirectoriesString(pstrdup(allowed_directories), ',', &entries)) return NIL;
    return entries;
}

struct Resolution {
    bool resolved;
    bool allowed;
    int error_number;
    char path[PATH_MAX];
};

}  // namespace

bool check_allowed_directories(char **newval, void **, GucSource) {
    List *entries = NIL;
    if (!SplitDirectoriesString(pstrdup(*newval), ',', &entries)) {
        GUC_check_errdetail("List syntax is invalid.");
        return false;
    }
    ListCell *cell;
    foreach (cell, entries) {
        const char *entry = static_cast<const char *>(lfirst(cell));
        if (!is_absolute_path(entry)) {
            GUC_check_errdetail("\"%s\" is not an absolute path.", entry);
            return false;
        }
    }
    return true;
}

DirectoryAllowance allowance_of(const char *source_name, const char *purpose,
                                const char *directory) {
    List *entries = allowed_entries();
    if (entries == NIL) return DirectoryAllowance{true, pstrdup(directory)};
    auto *resolution = static_cast<Resolution *>(palloc0(sizeof(Resolution)));
    cpp_guard([&] {
        std::optional<std::string> resolved = resolve_path(directory);
        if (!resolved) {
            resolution->error_number = errno;
            return;
        }
        resolution->resolved = true;
        strlcpy(resolution->path, resolved->c_str(), sizeof resolution->path);
        std::vector<std::string> allowed;
        ListCell *cell;
        foreach (cell, entries) allowed.emplace_back(static_cast<const char *>(lfirst(cell)));
        resolution->allowed = inside_any(*resolved, allowed);
    });
    if (!resolution->resolved) {
        errno = resolution->error_number;
        ereport(ERROR, (errcode_for_file_access(),
                        errmsg("could not resolve %s \"%s\" of source \"%s\": %m", purpose,
                               directory, source_name)));
    }
    return DirectoryAllowance{resolution->allowed, pstrdup(resolution->path)};
}

char *directory_refusal(const char *source_name, const char *purpose, const char *directory) {
    return psprintf("%s \"%s\" of source \"%s\" is not inside pg_ingest.allowed_directories",
                    purpose, directory, source_name);
}

}  // namespace pg_ingest
