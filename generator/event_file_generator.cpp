#include "event_file_generator.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <stdexcept>

#include "utc_time.hpp"

namespace eventgen {
namespace {

// Big writes keep syscalls negligible; 1 MiB is past the point of diminishing returns.
constexpr size_t kDataWriteChunk = 1 << 20;
constexpr size_t kManifestWriteChunk = 64 << 10;
// How often the row loop looks at the stop flag.
constexpr uint64_t kStopCheckRows = 1024;
// Without --rate, events are on average this far apart in event time.
constexpr int64_t kDefaultMeanGapMicros = 1000;
// Distinguishes the bad-row random stream from the event stream of the same seed.
constexpr uint64_t kBadRowStreamSalt = 0x6261645f726f7773;  // "bad_rows"

GeneratorOptions checked(GeneratorOptions options) {
    if (options.out_dir.empty()) throw std::invalid_argument("the output directory is empty");
    if (options.prefix.empty() || options.prefix.front() == '.' ||
        options.prefix.find_first_not_of(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") !=
            std::string::npos) {
        throw std::invalid_argument("the prefix must be letters, digits, '_' or '-'");
    }
    if (!(options.rate >= 0) || std::isinf(options.rate)) {
        throw std::invalid_argument("the rate must be a finite number >= 0");
    }
    if (options.nested && options.format != FileFormat::kJsonl)
        throw std::invalid_argument("--nested is for --format jsonl only");
    if (options.bad_row_fraction &&
        !(*options.bad_row_fraction >= 0 && *options.bad_row_fraction <= 1)) {
        throw std::invalid_argument("the bad-row fraction must be between 0 and 1");
    }
    return options;
}

RandomEngine engine_for(const std::optional<uint64_t> &seed, uint64_t salt) {
    return seed ? RandomEngine::from_seed(*seed ^ salt) : RandomEngine::from_entropy();
}

int64_t mean_gap_micros(double rate) {
    return rate > 0 ? std::max<int64_t>(1, std::llround(1e6 / std::max(rate, 1e-3)))
                    : kDefaultMeanGapMicros;
}

bool path_exists(const std::string &path) {
    struct stat info;
    return ::lstat(path.c_str(), &info) == 0;
}

}  // namespace

EventFileGenerator::EventFileGenerator(GeneratorOptions options)
    : options_(checked(std::move(options))),
      model_(engine_for(options_.seed, 0), options_.seed ? kSeededEpochMicros : unix_micros_now(),
             mean_gap_micros(options_.rate)),
      injector_(engine_for(options_.seed, kBadRowStreamSalt), options_.bad_row_fraction.value_or(0),
                options_.format),
      namer_(options_.prefix, options_.format == FileFormat::kCsv ? ".csv" : ".jsonl") {
    std::filesystem::create_directories(options_.out_dir);
}

std::optional<WrittenFile> EventFileGenerator::write_file(const StopFlag &stop) {
    const bool csv = options_.format == FileFormat::kCsv;
    FileSink sink(options_.out_dir, options_.prefix, csv ? ".csv" : ".jsonl", kDataWriteChunk);
    OutputBuffer &out = sink.buffer();
    if (csv) append_csv_header(out);

    // Unseeded runs keep event times near the wall clock, also after --interval pauses.
    if (!options_.seed) model_.advance_clock_to(unix_micros_now());
    injector_.start_file();
    std::optional<FileManifest> manifest;
    if (options_.bad_row_fraction) {
        manifest.emplace();
        manifest->format = options_.format;
        manifest->seed = options_.seed;
        manifest->bad_row_fraction = *options_.bad_row_fraction;
        manifest->data_lines = options_.events_per_file;
    }

    // With --rate, sleep after every batch of rows until the wall clock catches up; batches of
    // about 10 ms keep the pace smooth without a sleep per row.
    const auto started = std::chrono::steady_clock::now();
    const uint64_t pace_rows =
        options_.rate > 0
            ? std::clamp<uint64_t>(static_cast<uint64_t>(options_.rate / 100), 1, 4096)
            : 0;

    const uint64_t events = options_.events_per_file;
    for (uint64_t row = 0; row < events; ++row) {
        if (row % kStopCheckRows == 0 && stop.load(std::memory_order_relaxed)) return std::nullopt;
        const Event event = model_.next();
        RowFields fields = formatter_.fields_of(event);
        if (manifest) {
            if (auto kind = injector_.maybe_spoil(fields, row + 1 == events)) {
                // A CSV file's line 1 is its header; rows never contain a line break.
                manifest->bad_lines[static_cast<size_t>(*kind)].push_back(row + (csv ? 2 : 1));
            } else {
                injector_.remember_good_id(event.id);
            }
        }
        if (csv) {
            append_csv_row(fields, out);
        } else {
            append_json_row(fields, options_.nested, out);
        }
        sink.write_if_full();
        if (pace_rows > 0 && (row + 1) % pace_rows == 0) {
            const auto due =
                started + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                              std::chrono::duration<double>((row + 1) / options_.rate));
            if (!sleep_until_unless_stopped(due, stop)) return std::nullopt;
        }
    }
    sink.finish();

    WrittenFile written;
    const std::string name = publish(sink, manifest ? &*manifest : nullptr);
    written.path = (std::filesystem::path(options_.out_dir) / name).string();
    if (manifest) written.manifest_path = written.path + ".manifest.json";
    written.events = events;
    written.bytes = sink.size();
    return written;
}

std::string EventFileGenerator::publish(FileSink &data, const FileManifest *manifest) {
    const std::filesystem::path dir(options_.out_dir);
    for (;;) {
        const std::string name = namer_.next();
        const std::string path = (dir / name).string();
        const std::string manifest_path = path + ".manifest.json";
        // Another run may have taken this name: try the next one.
        if (path_exists(path) || path_exists(manifest_path)) continue;
        if (manifest) {
            FileSink sidecar(options_.out_dir, options_.prefix, ".manifest.json",
                             kManifestWriteChunk);
            sidecar.buffer().append(manifest_json(*manifest, name));
            sidecar.finish();
            if (!sidecar.publish_as(manifest_path)) continue;
        }
        if (data.publish_as(path)) {
            fsync_directory(options_.out_dir);
            return name;
        }
        if (manifest) std::filesystem::remove(manifest_path);
    }
}

}  // namespace eventgen
