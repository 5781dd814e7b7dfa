// Whether a source's owner may still read its files, delete or move them (with on_success =
// delete or move) and write its target: the worker acts as the owner, and stops the source
// rather than act for a role that lost a right (or no longer exists).
#pragma once

#include "pg/catalog/source_definition.hpp"

namespace pg_ingest {

// nullptr when the owner exists, may read server files, may write them when on_success deletes
// or moves, and has INSERT on the target; otherwise why not. The worker asks before each file
// and in each batch's transaction. Needs a transaction.
const char *owner_refusal(const SourceDefinition *source);

}  // namespace pg_ingest
