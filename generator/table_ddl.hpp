// The CREATE TABLE statement for the rows eventgen writes, for demos and tests to create the
// target table of pg_ingest.
#pragma once

#include <string>
#include <string_view>

namespace eventgen {

// `table` may be schema-qualified ("staging.user_events"); a part that is not a plain lowercase
// identifier is double-quoted. Columns are in file order and NOT NULL (no field is ever empty);
// event_id is the primary key, which is what rejects duplicated ids.
std::string create_table_ddl(std::string_view table);

}  // namespace eventgen
