// eventgen: synthetic e-commerce events as CSV files for pg_ingest demos, tests and benchmarks.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <signal.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <map>
#include <string>

#include "event_file_generator.hpp"
#include "stop_flag.hpp"
#include "table_ddl.hpp"

namespace {

eventgen::StopFlag stop_requested{false};

void request_stop(int) {
    stop_requested.store(true, std::memory_order_relaxed);
}

void install_stop_handlers() {
    struct sigaction action {};
    action.sa_handler = request_stop;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
}

int run(const eventgen::GeneratorOptions &options, uint64_t files, double interval_seconds) {
    eventgen::EventFileGenerator generator(options);
    const auto interval = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(interval_seconds));
    for (uint64_t written_files = 0; files == 0 || written_files < files; ++written_files) {
        if (written_files > 0 && interval.count() > 0 &&
            !eventgen::sleep_until_unless_stopped(std::chrono::steady_clock::now() + interval,
                                                  stop_requested)) {
            break;
        }
        const auto written = generator.write_file(stop_requested);
        if (!written) break;
        fmt::print("{} {} events {} bytes\n", written->path, written->events, written->bytes);
        std::fflush(stdout);
    }
    if (stop_requested.load()) fmt::print(stderr, "eventgen: stopped; no partial file left\n");
    return 0;
}

// --format and --nested: which file format, and for JSON Lines, the shape of the objects.
void add_format_options(CLI::App &app, eventgen::GeneratorOptions &options) {
    app.add_option("--format", options.format,
                   "csv, or jsonl: one JSON object per event and line (numbers as numbers, no "
                   "header, files *.jsonl); --bad-rows then makes JSON faults: truncated "
                   "objects, arrays, wrong types, missing and extra keys, invalid UTF-8, "
                   "duplicated event_id")
        ->transform(CLI::CheckedTransformer(std::map<std::string, eventgen::FileFormat>{
            {"csv", eventgen::FileFormat::kCsv}, {"jsonl", eventgen::FileFormat::kJsonl}}))
        ->default_str("csv");
    app.add_flag("--nested", options.nested,
                 "With --format jsonl: the user's id, device and location as one object "
                 "{\"user\": {\"id\", \"device\", \"location\"}}, for json_columns");
}

}  // namespace

int main(int argc, char **argv) {
    CLI::App app{
        "Writes synthetic e-commerce events (view, add_to_cart, remove_from_cart, purchase, "
        "wishlist) as CSV files for pg_ingest. Each file appears atomically as "
        "PREFIX_YYYYMMDD_HHMMSS_mmm[_NNN].csv (UTC) after being written to a hidden temporary "
        "file; one line \"PATH EVENTS events BYTES bytes\" is printed per file. SIGINT/SIGTERM "
        "stop cleanly (exit status 0) without leaving a partial file.",
        "eventgen"};
    eventgen::GeneratorOptions options;
    uint64_t files = 1;
    double interval_seconds = 0;
    uint64_t seed = 0;
    double bad_row_fraction = 0;
    bool print_ddl = false;
    std::string table = "user_events";

    app.add_option("--out", options.out_dir, "Directory to write files to (created if missing)");
    app.add_option("--events", options.events_per_file, "Events (data rows) per file")
        ->capture_default_str();
    app.add_option("--files", files, "Number of files to write; 0 = until SIGINT/SIGTERM")
        ->capture_default_str();
    app.add_option("--interval", interval_seconds, "Seconds to wait between files")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    app.add_option("--rate", options.rate,
                   "Events per second to write at (0 = as fast as possible); event times then "
                   "advance by 1/rate on average instead of 1 ms")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    auto *seed_option = app.add_option(
        "--seed", seed,
        "Make the output byte-for-byte reproducible (event ids too, so two runs with the same "
        "seed repeat ids); event times then start at 2026-01-01 00:00:00+00. File names still "
        "use the wall clock. Without it: random seed, event times follow the wall clock");
    auto *bad_rows_option = app.add_option(
        "--bad-rows", bad_row_fraction,
        "Fraction (0..1) of rows to make malformed: wrong column count, non-numeric id, bad "
        "timestamp, bad price, duplicated event_id, invalid UTF-8, and (only ever as the last "
        "line, when that line is picked) an unterminated quote. Given (even 0), each file F gets "
        "F.manifest.json listing the bad lines by kind, published before F");
    bad_rows_option->check(CLI::Range(0.0, 1.0));
    add_format_options(app, options);
    app.add_option("--prefix", options.prefix, "File name prefix (letters, digits, '_', '-')")
        ->capture_default_str();
    app.add_flag("--print-ddl", print_ddl,
                 "Print the CREATE TABLE statement matching the files, then exit");
    app.add_option("--table", table, "Table name used by --print-ddl (may be schema.table)")
        ->capture_default_str();

    try {
        app.parse(argc, argv);
        if (!print_ddl && options.out_dir.empty()) throw CLI::RequiredError("--out");
    } catch (const CLI::ParseError &error) {
        return app.exit(error);
    }

    if (print_ddl) {
        fmt::print("{}", eventgen::create_table_ddl(table));
        return 0;
    }
    if (seed_option->count() > 0) options.seed = seed;
    if (bad_rows_option->count() > 0) options.bad_row_fraction = bad_row_fraction;

    install_stop_handlers();
    try {
        return run(options, files, interval_seconds);
    } catch (const std::exception &error) {
        fmt::print(stderr, "eventgen: {}\n", error.what());
        return 1;
    }
}
