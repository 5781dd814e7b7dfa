// Tail mode's rotation by rename (app.csv -> app.csv.1, then a new app.csv): a version of a file
// is its inode, wherever in the source's directory it now is. One directory is one device, so the
// inode names the file there.
#pragma once

extern "C" {
#include "postgres.h"
}

namespace pg_ingest {

// The name in `directory` that holds `inode`: `name` when it still does, else the first entry
// found with it (a readdir, no lstat per entry); nullptr when none does.
char *name_holding_inode(const char *directory, const char *name, int64 inode);

}  // namespace pg_ingest
