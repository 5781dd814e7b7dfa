// Writes event files one at a time: rows from the event model, optionally spoiled by the bad-row
// injector, into an atomically published CSV file plus, when bad rows were asked for, its
// manifest (published first, so a watcher that sees the CSV file can already read it).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "bad_rows.hpp"
#include "event_csv.hpp"
#include "event_json.hpp"
#include "file_format.hpp"
#include "event_model.hpp"
#include "file_naming.hpp"
#include "file_sink.hpp"
#include "manifest.hpp"
#include "stop_flag.hpp"

namespace eventgen {

struct GeneratorOptions {
    std::string out_dir;
    std::string prefix = "user_events";
    uint64_t events_per_file = 30000;
    // Events per second; 0 writes as fast as possible.
    double rate = 0;
    // Given: output is reproducible and event times start at 2026-01-01 00:00:00+00. Absent:
    // seeded from std::random_device and event times follow the wall clock.
    std::optional<uint64_t> seed;
    // Given (even 0): that fraction of rows is bad and every file gets a manifest.
    std::optional<double> bad_row_fraction;
    FileFormat format = FileFormat::kCsv;
    bool nested = false;  // JSON Lines only: the user's fields as one object (event_json.hpp)
};

struct WrittenFile {
    std::string path;           // the final name, joined to out_dir
    std::string manifest_path;  // empty without bad_row_fraction
    uint64_t events;
    uint64_t bytes;
};

class EventFileGenerator {
  public:
    // Creates out_dir if missing. Throws std::invalid_argument for bad options.
    explicit EventFileGenerator(GeneratorOptions options);

    // Writes one file. Returns nullopt, leaving nothing behind, if `stop` was set before all its
    // rows were written; once they are, the file is finished regardless. Throws
    // std::system_error on I/O errors (the temporary file is then removed).
    std::optional<WrittenFile> write_file(const StopFlag &stop);

  private:
    std::string publish(FileSink &data, const FileManifest *manifest);

    GeneratorOptions options_;
    EventModel model_;
    EventFieldFormatter formatter_;
    BadRowInjector injector_;
    FileNamer namer_;
};

}  // namespace eventgen
