// The layouts eventgen writes the same events in.
#pragma once

namespace eventgen {

enum class FileFormat {
    kCsv,    // a header line, then one RFC 4180 row per event (.csv)
    kJsonl,  // one JSON object per event, no header (.jsonl)
};

}  // namespace eventgen
