#include "pg/insert/target_cache.hpp"

extern "C" {
#include "lib/stringinfo.h"
#include "utils/inval.h"
#include "utils/memutils.h"
}

namespace pg_ingest {

namespace {

MemoryContext cache_context = nullptr;
PreparedTarget cached = {nullptr, nullptr};
Oid cached_target = InvalidOid;
char *cached_header = nullptr;  // the header's names joined; "" without a header
bool cache_valid = false;

void on_relation_invalidated(Datum, Oid relid) {
    if (relid == InvalidOid || relid == cached_target) cache_valid = false;
}

// Names are joined with a byte that cannot occur in a column name.
char *header_key(const char *const *header_names, int header_count) {
    StringInfoData key;
    initStringInfo(&key);
    if (header_names == nullptr) return key.data;
    appendStringInfoChar(&key, 'h');
    for (int i = 0; i < header_count; i++) {
        appendStringInfoChar(&key, '\x01');
        appendStringInfoString(&key, header_names[i]);
    }
    return key.data;
}

void forget_cached() {
    free_copy_inserter(cached.copier);
    free_batch_inserter(cached.inserter);
    cached = {nullptr, nullptr};
    cached_target = InvalidOid;
    cached_header = nullptr;
    cache_valid = false;
    MemoryContextReset(cache_context);
}

}  // namespace

void register_target_cache() {
    cache_context =
        AllocSetContextCreate(TopMemoryContext, "pg_ingest prepared target", ALLOCSET_SMALL_SIZES);
    CacheRegisterRelcacheCallback(on_relation_invalidated, 0);
}

PreparedTarget prepare_target(const SourceDefinition *source, const char *file_name,
                              const char *const *header_names, int header_count) {
    // Invalidations that arrived since the last file are processed by now: the transaction has
    // started and taken its snapshot.
    char *key = header_key(header_names, header_count);
    if (cache_valid && cached_target == source->target && strcmp(cached_header, key) == 0)
        return cached;
    forget_cached();
    BatchInserter *inserter =
        prepare_batch_inserter(source, file_name, header_names, header_count, cache_context);
    // COPY stores only what the file holds, each field in the column its header names: a source
    // with lineage, or a file whose header names new columns (ignored or rescued), loads row by
    // row.
    bool lineage = source->file_column != nullptr || source->line_column != nullptr;
    CopyInserter *copier = lineage || inserter->new_column_count > 0
                               ? nullptr
                               : prepare_copy_inserter(source, header_names, header_count,
                                                       inserter->transform, cache_context);
    cached = {inserter, copier};
    cached_target = source->target;
    cached_header = MemoryContextStrdup(cache_context, key);
    cache_valid = true;
    return cached;
}

}  // namespace pg_ingest
