#include "pg/load/text_check.hpp"

#include "pg/support/pg_guard.hpp"
#include "core/csv/text_sniffer.hpp"

extern "C" {
#include <unistd.h>

#include "mb/pg_wchar.h"
}

namespace pg_ingest {

void check_file_is_text(const SourceDefinition *source, const FileRow *file, int fd) {
    char head[kTextSniffBytes];
    ssize_t got = pread(fd, head, sizeof head, 0);
    if (got < 0)
        ereport(ERROR, (errcode_for_file_access(),
                        errmsg("could not read file \"%s\": %m", file->file_name)));
    char reason[256];
    bool text = cpp_guard([&] {
        std::string found = describe_non_text(head, static_cast<size_t>(got));
        strlcpy(reason, found.c_str(), sizeof reason);
        return found.empty();
    });
    if (!text)
        ereport(ERROR, (errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
                        errmsg("file \"%s\" %s, but the source declares encoding %s",
                               file->file_name, reason, pg_encoding_to_char(source->encoding))));
}

}  // namespace pg_ingest
