// Fails a file that is not text in a byte-oriented encoding (UTF-16, UTF-32, binary) before any
// of its rows is read: no declared encoding would make one of its lines load.
#pragma once

#include "pg/catalog/file_catalog.hpp"
#include "pg/catalog/source_definition.hpp"

namespace pg_ingest {

// Reads the first bytes of fd (without moving its offset) and raises ERROR naming the file and
// the source's declared encoding when they are not text.
void check_file_is_text(const SourceDefinition *source, const FileRow *file, int fd);

}  // namespace pg_ingest
