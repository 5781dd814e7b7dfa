#include "pg/load/rotated_file.hpp"

extern "C" {
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
}

namespace pg_ingest {

char *name_holding_inode(const char *directory, const char *name, int64 inode) {
    struct stat st;
    char *path = psprintf("%s/%s", directory, name);
    bool holds = lstat(path, &st) == 0 && static_cast<int64>(st.st_ino) == inode;
    pfree(path);
    if (holds) return pstrdup(name);
    DIR *dir = opendir(directory);
    if (dir == nullptr) return nullptr;
    char *found = nullptr;
    while (struct dirent *entry = readdir(dir)) {
        if (static_cast<int64>(entry->d_ino) != inode) continue;
        if (entry->d_type != DT_REG && entry->d_type != DT_UNKNOWN) continue;
        found = pstrdup(entry->d_name);
        break;
    }
    closedir(dir);
    return found;
}

}  // namespace pg_ingest
