// End-to-end tests of the eventgen binary: files as a watcher sees them, parsed with the
// ingester's own CSV reader.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "temp_dir.hpp"
#include "catalog.hpp"
#include "core/csv/csv_reader.hpp"
#include "core/jsonl/jsonl_line_decoder.hpp"

extern char **environ;

namespace eventgen {
namespace {

namespace fs = std::filesystem;

using test_support::TempDir;

// A running eventgen whose stdout we read; stderr goes to the test log.
class Eventgen {
  public:
    explicit Eventgen(const std::vector<std::string> &args) {
        int pipe_fds[2];
        if (pipe(pipe_fds) != 0) throw std::runtime_error("pipe failed");
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
        posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
        posix_spawn_file_actions_addclose(&actions, pipe_fds[1]);
        std::vector<std::string> argv_strings{EVENTGEN_BINARY};
        argv_strings.insert(argv_strings.end(), args.begin(), args.end());
        std::vector<char *> argv;
        for (std::string &arg : argv_strings) argv.push_back(arg.data());
        argv.push_back(nullptr);
        const int error =
            posix_spawn(&pid_, EVENTGEN_BINARY, &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        close(pipe_fds[1]);
        stdout_fd_ = pipe_fds[0];
        if (error != 0) throw std::runtime_error("cannot run " EVENTGEN_BINARY);
    }
    ~Eventgen() {
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
        close(stdout_fd_);
    }

    // Reads one line of stdout (without "\n"); false at end of output.
    bool read_line(std::string &line) {
        line.clear();
        char c;
        while (read(stdout_fd_, &c, 1) == 1) {
            if (c == '\n') return true;
            line += c;
        }
        return !line.empty();
    }

    void signal(int number) { kill(pid_, number); }

    // Reads the rest of stdout and waits; returns the exit status (-1 if killed by a signal).
    int wait(std::string *rest_of_stdout = nullptr, long *max_rss_kb = nullptr) {
        std::string output;
        char buffer[4096];
        ssize_t got;
        while ((got = read(stdout_fd_, buffer, sizeof buffer)) > 0) output.append(buffer, got);
        if (rest_of_stdout) *rest_of_stdout = output;
        int status = 0;
        struct rusage usage {};
        wait4(pid_, &status, 0, &usage);
        pid_ = -1;
        if (max_rss_kb) *max_rss_kb = usage.ru_maxrss;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }

    // wait(), but a process still running after `deadline` is killed (then -1): a hang fails
    // the test rather than blocking it. The deadline is generous: it bounds no speed.
    int wait_or_kill_after(std::chrono::seconds deadline, std::string *rest_of_stdout = nullptr) {
        std::mutex mutex;
        std::condition_variable ended;
        bool done = false;
        const pid_t pid = pid_;
        std::thread watchdog([&] {
            std::unique_lock<std::mutex> lock(mutex);
            if (!ended.wait_for(lock, deadline, [&] { return done; })) kill(pid, SIGKILL);
        });
        const int status = wait(rest_of_stdout);
        {
            std::lock_guard<std::mutex> lock(mutex);
            done = true;
        }
        ended.notify_one();
        watchdog.join();
        return status;
    }

  private:
    pid_t pid_ = -1;
    int stdout_fd_ = -1;
};

struct RunResult {
    int exit_code;
    std::string output;
};

RunResult run_eventgen(const std::vector<std::string> &args) {
    Eventgen process(args);
    RunResult result;
    result.exit_code = process.wait(&result.output);
    return result;
}

std::vector<std::string> lines_of(const std::string &text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

// The paths eventgen printed, in order ("PATH EVENTS events BYTES bytes" per file).
std::vector<std::string> printed_paths(const std::string &output) {
    std::vector<std::string> paths;
    for (const std::string &line : lines_of(output))
        paths.push_back(line.substr(0, line.find(' ')));
    return paths;
}

std::string read_file(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

const std::regex kFinalName(R"(user_events_\d{8}_\d{6}_\d{3}(_\d{3})?\.(csv|jsonl))");

bool is_final_name(const std::string &name) {
    return std::regex_match(name, kFinalName);
}

// Sorted final-name CSV files (full paths) in `dir`.
std::vector<std::string> data_files(const std::string &dir) {
    std::vector<std::string> files;
    for (const auto &entry : fs::directory_iterator(dir)) {
        if (is_final_name(entry.path().filename().string())) files.push_back(entry.path().string());
    }
    std::sort(files.begin(), files.end());
    return files;
}

std::vector<std::string> all_names(const std::string &dir) {
    std::vector<std::string> names;
    for (const auto &entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename());
    std::sort(names.begin(), names.end());
    return names;
}

struct ParsedRow {
    uint64_t line;
    std::string error;
    std::vector<std::string> fields;
};

std::vector<ParsedRow> parse_csv(const std::string &content) {
    pg_ingest::StringByteSource source(content);
    pg_ingest::CsvReader reader(source, pg_ingest::CsvOptions{});
    pg_ingest::CsvBatch batch;
    std::vector<ParsedRow> rows;
    while (reader.next_batch(batch, 1000)) {
        for (const pg_ingest::CsvRow &row : batch.rows) {
            ParsedRow parsed{row.line_number, row.error, {}};
            const pg_ingest::CsvField *fields = batch.row_fields(row);
            for (uint32_t i = 0; i < row.field_count; ++i) {
                parsed.fields.emplace_back(
                    fields[i].is_null ? "" : std::string(fields[i].data, fields[i].size));
            }
            rows.push_back(std::move(parsed));
        }
    }
    return rows;
}

// --- Field checks, written from the issue rather than from the generator's code. ---

bool is_uuid_v4(const std::string &text) {
    if (text.size() != 36) return false;
    for (size_t i = 0; i < text.size(); ++i) {
        const bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash_position != (text[i] == '-')) return false;
        if (!dash_position && !std::isxdigit(static_cast<unsigned char>(text[i]))) return false;
    }
    return text[14] == '4' && std::string("89ab").find(text[19]) != std::string::npos;
}

bool is_digits(const std::string &text, size_t from = 0, size_t count = std::string::npos) {
    const std::string part = text.substr(from, count);
    return !part.empty() &&
           std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_id(const std::string &text) {
    return is_digits(text) && text.size() <= 18;
}

// "YYYY-MM-DD HH:MM:SS.ffffff+00" with every part in range.
bool is_event_time(const std::string &text) {
    static const std::regex pattern(R"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}\+00)");
    if (!std::regex_match(text, pattern)) return false;
    const int year = std::stoi(text.substr(0, 4));
    const int month = std::stoi(text.substr(5, 2));
    const int day = std::stoi(text.substr(8, 2));
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    const int month_days[] = {31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month >= 1 && month <= 12 && day >= 1 && day <= month_days[month - 1] &&
           std::stoi(text.substr(11, 2)) < 24 && std::stoi(text.substr(14, 2)) < 60 &&
           std::stoi(text.substr(17, 2)) < 60;
}

bool is_price(const std::string &text) {
    const size_t dot = text.find('.');
    return dot != std::string::npos && dot + 3 == text.size() && is_digits(text, 0, dot) &&
           is_digits(text, dot + 1) && dot <= 10;
}

bool is_one_of(const std::string &text, const std::string_view *names, size_t count) {
    return std::find(names, names + count, text) != names + count;
}

bool is_event_type(const std::string &text) {
    static const std::set<std::string> kTypes{"view", "add_to_cart", "remove_from_cart", "purchase",
                                              "wishlist"};
    return kTypes.count(text) > 0;
}

// Every way a row can be wrong, or "" for a good row (the event_id is checked separately).
std::string row_problem(const ParsedRow &row) {
    if (!row.error.empty()) return "reader: " + row.error;
    if (row.fields.size() != 9) return "field count " + std::to_string(row.fields.size());
    const std::vector<std::string> &f = row.fields;
    if (!is_uuid_v4(f[0])) return "event_id";
    if (!is_id(f[1]) || !is_id(f[2])) return "id";
    if (!is_event_type(f[3])) return "event_type";
    if (!is_event_time(f[4])) return "event_time";
    if (!is_price(f[5])) return "price";
    if (!is_one_of(f[6], kCategories, kCategoryCount)) return "category";
    if (!is_one_of(f[7], kDevices, kDeviceCount)) return "device";
    if (!is_one_of(f[8], kLocations, kLocationCount)) return "location";
    return "";
}

const std::string kHeader =
    "event_id,user_id,product_id,event_type,event_time,price,category,user_device,user_location";

// --- The manifest, read with just enough JSON for its fixed layout. ---

struct Manifest {
    std::string file;
    uint64_t data_lines = 0;
    uint64_t good_lines = 0;
    uint64_t bad_lines = 0;
    std::map<std::string, std::vector<uint64_t>> lines_by_kind;
    std::map<std::string, uint64_t> count_by_kind;
};

uint64_t json_number(const std::string &json, const std::string &key) {
    std::smatch match;
    if (!std::regex_search(json, match, std::regex("\"" + key + "\": (\\d+)"))) {
        ADD_FAILURE() << "no " << key << " in manifest";
        return 0;
    }
    return std::stoull(match[1]);
}

const std::vector<std::string> kKinds = {
    "wrong_column_count", "non_numeric_id", "bad_timestamp",     "bad_price",
    "duplicate_event_id", "invalid_utf8",   "unterminated_quote"};
const std::vector<std::string> kJsonKinds = {"truncated_object",  "array_line", "wrong_type",
                                             "missing_key",       "extra_key",  "invalid_utf8",
                                             "duplicate_event_id"};

Manifest read_manifest(const std::string &path, const std::vector<std::string> &kinds = kKinds) {
    const std::string json = read_file(path);
    Manifest manifest;
    std::smatch match;
    if (std::regex_search(json, match, std::regex("\"file\": \"([^\"]*)\"")))
        manifest.file = match[1];
    manifest.data_lines = json_number(json, "data_lines");
    manifest.good_lines = json_number(json, "good_lines");
    manifest.bad_lines = json_number(json, "bad_lines");
    for (const std::string &kind : kinds) {
        const std::regex entry("\"" + kind +
                               "\": \\{\"count\": (\\d+), \"lines\": \\[([0-9, ]*)\\]\\}");
        if (!std::regex_search(json, match, entry)) {
            ADD_FAILURE() << "no " << kind << " in " << path;
            continue;
        }
        manifest.count_by_kind[kind] = std::stoull(match[1]);
        std::vector<uint64_t> &lines = manifest.lines_by_kind[kind];
        std::istringstream numbers(std::regex_replace(match[2].str(), std::regex(","), " "));
        for (uint64_t line; numbers >> line;) lines.push_back(line);
    }
    return manifest;
}

// --- Tests ---

TEST(EventgenBinaryTest, SameSeedGivesIdenticalBytes) {
    TempDir first;
    TempDir second;
    TempDir other_seed;
    const std::vector<std::string> args{"--seed",  "42", "--events",   "5000",
                                        "--files", "2",  "--bad-rows", "0.01"};
    auto with_out = [&](const std::string &dir, std::vector<std::string> extra) {
        extra.insert(extra.begin(), {"--out", dir});
        return extra;
    };
    ASSERT_EQ(run_eventgen(with_out(first.path(), args)).exit_code, 0);
    ASSERT_EQ(run_eventgen(with_out(second.path(), args)).exit_code, 0);
    std::vector<std::string> changed_args = args;
    changed_args[1] = "43";
    ASSERT_EQ(run_eventgen(with_out(other_seed.path(), changed_args)).exit_code, 0);

    const auto first_files = data_files(first.path());
    const auto second_files = data_files(second.path());
    const auto other_files = data_files(other_seed.path());
    ASSERT_EQ(first_files.size(), 2u);
    ASSERT_EQ(second_files.size(), 2u);
    ASSERT_EQ(other_files.size(), 2u);
    // Manifests differ only in the file name they mention.
    const auto manifest_without_name = [](const std::string &path) {
        return std::regex_replace(read_file(path + ".manifest.json"),
                                  std::regex("\"file\": \"[^\"]*\""), "");
    };
    for (size_t i = 0; i < first_files.size(); ++i) {
        EXPECT_EQ(read_file(first_files[i]), read_file(second_files[i])) << first_files[i];
        EXPECT_EQ(manifest_without_name(first_files[i]), manifest_without_name(second_files[i]));
        EXPECT_NE(read_file(first_files[i]), read_file(other_files[i]));
    }
    EXPECT_NE(read_file(first_files[0]), read_file(first_files[1]));
    // Seeded event times start at the fixed epoch.
    const std::string content = read_file(first_files[0]);
    EXPECT_NE(content.find(",2026-01-01 00:00:00."), std::string::npos);
}

TEST(EventgenBinaryTest, UnseededRunsNeverRepeatEventIds) {
    TempDir dir;
    ASSERT_EQ(run_eventgen({"--out", dir.path(), "--events", "3000"}).exit_code, 0);
    ASSERT_EQ(run_eventgen({"--out", dir.path(), "--events", "3000"}).exit_code, 0);
    std::set<std::string> ids;
    size_t rows = 0;
    for (const std::string &file : data_files(dir.path())) {
        for (const ParsedRow &row : parse_csv(read_file(file))) {
            if (row.line == 1) continue;
            ++rows;
            ids.insert(row.fields.at(0));
        }
    }
    EXPECT_EQ(rows, 6000u);
    EXPECT_EQ(ids.size(), 6000u);
}

TEST(EventgenBinaryTest, NamesSortInCreationOrderAndNeverCollide) {
    TempDir dir;
    const RunResult first_run =
        run_eventgen({"--out", dir.path(), "--files", "1000", "--events", "1", "--interval", "0"});
    ASSERT_EQ(first_run.exit_code, 0);
    // A second run right after, into the same directory.
    const RunResult second_run =
        run_eventgen({"--out", dir.path(), "--files", "50", "--events", "1"});
    ASSERT_EQ(second_run.exit_code, 0);

    std::vector<std::string> created = printed_paths(first_run.output);
    const std::vector<std::string> created_later = printed_paths(second_run.output);
    ASSERT_EQ(created.size(), 1000u);
    ASSERT_EQ(created_later.size(), 50u);
    created.insert(created.end(), created_later.begin(), created_later.end());
    for (const std::string &path : created)
        EXPECT_TRUE(is_final_name(fs::path(path).filename())) << path;

    std::vector<std::string> sorted = created;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, created) << "byte order of names must be creation order";
    EXPECT_EQ(std::set<std::string>(created.begin(), created.end()).size(), created.size());
    // Nothing else is left: no temporary files, no manifests without --bad-rows.
    EXPECT_EQ(data_files(dir.path()), sorted);
    EXPECT_EQ(all_names(dir.path()).size(), 1050u);
}

TEST(EventgenBinaryTest, GoodLinesHaveNineFieldsOfTheRightTypes) {
    TempDir dir;
    const RunResult run = run_eventgen({"--out", dir.path()});
    ASSERT_EQ(run.exit_code, 0);
    const auto files = data_files(dir.path());
    ASSERT_EQ(files.size(), 1u);
    const std::string content = read_file(files[0]);
    EXPECT_EQ(run.output,
              files[0] + " 30000 events " + std::to_string(content.size()) + " bytes\n");
    EXPECT_EQ(content.substr(0, kHeader.size() + 1), kHeader + "\n");
    EXPECT_EQ(content.back(), '\n');

    const std::vector<ParsedRow> rows = parse_csv(content);
    ASSERT_EQ(rows.size(), 30001u);
    std::set<std::string> ids;
    std::string previous_time;
    size_t quoted_locations = 0;
    for (size_t i = 1; i < rows.size(); ++i) {
        const ParsedRow &row = rows[i];
        ASSERT_EQ(row.line, i + 1);
        ASSERT_EQ(row_problem(row), "") << "line " << row.line;
        EXPECT_TRUE(ids.insert(row.fields[0]).second) << "duplicate id on line " << row.line;
        EXPECT_LT(previous_time, row.fields[4]) << "time goes back on line " << row.line;
        previous_time = row.fields[4];
        if (row.fields[8].find(',') != std::string::npos) ++quoted_locations;
    }
    // Fields that need RFC 4180 quoting appear now and then.
    EXPECT_GT(quoted_locations, 0u);
    EXPECT_LT(quoted_locations, 15000u);
    EXPECT_NE(content.find(",\"Washington, D.C.\"\n"), std::string::npos);
}

TEST(EventgenBinaryTest, BadRowsAreExactlyWhatTheManifestSays) {
    TempDir dir;
    ASSERT_EQ(run_eventgen({"--out", dir.path(), "--events", "20000", "--files", "3", "--bad-rows",
                            "0.02", "--seed", "7"})
                  .exit_code,
              0);
    // Every row bad: the last line is then the unterminated quote.
    ASSERT_EQ(
        run_eventgen({"--out", dir.path(), "--events", "300", "--bad-rows", "1", "--seed", "8"})
            .exit_code,
        0);
    const auto files = data_files(dir.path());
    ASSERT_EQ(files.size(), 4u);

    std::map<std::string, uint64_t> total_by_kind;
    for (const std::string &file : files) {
        SCOPED_TRACE(file);
        const Manifest manifest = read_manifest(file + ".manifest.json");
        EXPECT_EQ(manifest.file, fs::path(file).filename().string());
        const std::string content = read_file(file);
        const std::vector<ParsedRow> rows = parse_csv(content);
        ASSERT_FALSE(rows.empty());
        EXPECT_EQ(rows[0].error, "");
        const uint64_t data_lines = rows.size() - 1;
        EXPECT_EQ(manifest.data_lines, data_lines);

        std::map<uint64_t, std::string> kind_of_line;
        uint64_t listed = 0;
        for (const auto &[kind, lines] : manifest.lines_by_kind) {
            EXPECT_EQ(manifest.count_by_kind.at(kind), lines.size()) << kind;
            EXPECT_TRUE(std::is_sorted(lines.begin(), lines.end())) << kind;
            for (uint64_t line : lines)
                EXPECT_TRUE(kind_of_line.emplace(line, kind).second) << line;
            listed += lines.size();
            total_by_kind[kind] += lines.size();
        }
        EXPECT_EQ(manifest.bad_lines, listed);
        EXPECT_EQ(manifest.good_lines, data_lines - listed);
        EXPECT_LE(manifest.count_by_kind.at("unterminated_quote"), 1u);

        std::set<std::string> good_ids;
        for (size_t i = 1; i < rows.size(); ++i) {
            const ParsedRow &row = rows[i];
            ASSERT_EQ(row.line, i + 1) << "a bad row must still be one physical line";
            const auto bad = kind_of_line.find(row.line);
            const std::string problem = row_problem(row);
            if (bad == kind_of_line.end()) {
                EXPECT_EQ(problem, "") << "good line " << row.line;
                EXPECT_TRUE(good_ids.insert(row.fields.at(0)).second) << "line " << row.line;
                continue;
            }
            const std::string &kind = bad->second;
            SCOPED_TRACE("line " + std::to_string(row.line) + " " + kind);
            if (kind == "wrong_column_count") {
                EXPECT_EQ(row.error, "");
                EXPECT_TRUE(row.fields.size() == 8 || row.fields.size() == 10) << row.fields.size();
            } else if (kind == "non_numeric_id") {
                EXPECT_EQ(problem, "id");
            } else if (kind == "bad_timestamp") {
                EXPECT_EQ(problem, "event_time");
            } else if (kind == "bad_price") {
                EXPECT_EQ(problem, "price");
            } else if (kind == "duplicate_event_id") {
                EXPECT_EQ(problem, "");
                EXPECT_EQ(good_ids.count(row.fields.at(0)), 1u)
                    << "must repeat an earlier good row's id";
            } else if (kind == "invalid_utf8") {
                EXPECT_NE(row.error.find("UTF-8"), std::string::npos) << row.error;
            } else if (kind == "unterminated_quote") {
                EXPECT_NE(row.error, "");
                EXPECT_EQ(row.line, data_lines + 1) << "only ever the last line";
                EXPECT_NE(content.back(), '\n');
            } else {
                ADD_FAILURE() << "unknown kind";
            }
        }
    }
    // About 2% of 60,000 rows, plus the 300 of the all-bad file, and every kind shows up.
    uint64_t total = 0;
    for (const auto &[kind, count] : total_by_kind) {
        EXPECT_GT(count, 0u) << kind;
        total += count;
    }
    EXPECT_GT(total, 300u + 900u);
    EXPECT_LT(total, 300u + 1500u);
    EXPECT_EQ(total_by_kind["unterminated_quote"], 1u);
}

TEST(EventgenBinaryTest, ManifestOnlyWithBadRowsOption) {
    TempDir dir;
    ASSERT_EQ(run_eventgen({"--out", dir.path(), "--events", "100", "--bad-rows", "0"}).exit_code,
              0);
    auto files = data_files(dir.path());
    ASSERT_EQ(files.size(), 1u);
    const Manifest manifest = read_manifest(files[0] + ".manifest.json");
    EXPECT_EQ(manifest.data_lines, 100u);
    EXPECT_EQ(manifest.good_lines, 100u);
    EXPECT_EQ(manifest.bad_lines, 0u);

    TempDir plain;
    ASSERT_EQ(run_eventgen({"--out", plain.path(), "--events", "100"}).exit_code, 0);
    EXPECT_EQ(all_names(plain.path()).size(), 1u);
}

// A watcher polling the directory never sees a final name with partial content, and sees the
// manifest no later than the data file.
TEST(EventgenBinaryTest, FinalNamesAreNeverPartial) {
    TempDir dir;
    constexpr int kFiles = 20;
    constexpr size_t kEvents = 20000;
    std::atomic<bool> finished{false};
    std::set<std::string> seen;
    std::vector<std::string> failures;
    std::thread watcher([&] {
        // One more pass after the generator exits catches the last files.
        for (bool last_pass = false; !last_pass;) {
            last_pass = finished.load();
            std::error_code error;
            for (const auto &entry : fs::directory_iterator(dir.path(), error)) {
                const std::string name = entry.path().filename();
                if (!is_final_name(name) || seen.count(name)) continue;
                const std::string content = read_file(entry.path());
                const size_t lines = std::count(content.begin(), content.end(), '\n');
                if (content.empty() || content.back() != '\n' || lines != kEvents + 1) {
                    failures.push_back(name + ": " + std::to_string(lines) + " lines");
                }
                if (!fs::exists(entry.path().string() + ".manifest.json"))
                    failures.push_back(name + ": no manifest yet");
                seen.insert(name);
            }
        }
    });
    const RunResult run = run_eventgen({"--out", dir.path(), "--files", std::to_string(kFiles),
                                        "--events", std::to_string(kEvents), "--bad-rows", "0"});
    finished = true;
    watcher.join();
    EXPECT_EQ(run.exit_code, 0);
    EXPECT_EQ(failures, std::vector<std::string>{});
    EXPECT_EQ(seen.size(), static_cast<size_t>(kFiles));
    EXPECT_EQ(all_names(dir.path()).size(), 2u * kFiles) << "only data files and manifests remain";
}

TEST(EventgenBinaryTest, SigtermMidFileLeavesNoPartialFile) {
    TempDir dir;
    Eventgen process({"--out", dir.path(), "--files", "0", "--events", "3000000"});
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    process.signal(SIGTERM);
    // With --files 0 eventgen never ends by itself: only the signal ends it.
    std::string output;
    EXPECT_EQ(process.wait_or_kill_after(std::chrono::seconds(60), &output), 0);
    // Whatever was finished is complete; the file in progress is gone, temporary name included.
    const auto files = data_files(dir.path());
    EXPECT_EQ(printed_paths(output), files);
    EXPECT_EQ(all_names(dir.path()).size(), files.size());
    for (const std::string &file : files) {
        const std::string content = read_file(file);
        EXPECT_EQ(std::count(content.begin(), content.end(), '\n'), 3000001);
    }
}

TEST(EventgenBinaryTest, SigintDuringIntervalStopsPromptly) {
    TempDir dir;
    // An interval of an hour: only a SIGINT that cuts the sleep short ends it within the
    // deadline.
    Eventgen process({"--out", dir.path(), "--files", "0", "--events", "10", "--interval", "3600"});
    std::string line;
    ASSERT_TRUE(process.read_line(line));
    process.signal(SIGINT);
    EXPECT_EQ(process.wait_or_kill_after(std::chrono::seconds(60)), 0);
    EXPECT_EQ(data_files(dir.path()), std::vector<std::string>{line.substr(0, line.find(' '))});
}

TEST(EventgenBinaryTest, FunnelIsPlausible) {
    TempDir dir;
    ASSERT_EQ(run_eventgen({"--out", dir.path(), "--seed", "5"}).exit_code, 0);
    const auto files = data_files(dir.path());
    ASSERT_EQ(files.size(), 1u);
    const std::vector<ParsedRow> rows = parse_csv(read_file(files[0]));
    std::map<std::string, size_t> type_counts;
    std::map<std::string, size_t> user_counts;
    std::map<std::string, size_t> product_counts;
    std::set<std::pair<std::string, std::string>> viewed;
    size_t purchases_after_view = 0;
    for (size_t i = 1; i < rows.size(); ++i) {
        const std::vector<std::string> &f = rows[i].fields;
        ++type_counts[f[3]];
        ++user_counts[f[1]];
        ++product_counts[f[2]];
        if (f[3] == "view") viewed.emplace(f[1], f[2]);
        if (f[3] == "purchase" && viewed.count({f[1], f[2]})) ++purchases_after_view;
    }
    EXPECT_EQ(type_counts.size(), 5u);
    EXPECT_LT(type_counts["purchase"], type_counts["view"] / 5);
    EXPECT_LT(type_counts["add_to_cart"], type_counts["view"]);
    EXPECT_GT(type_counts["purchase"], 0u);
    EXPECT_GT(purchases_after_view, type_counts["purchase"] * 8 / 10);

    // Zipf-like popularity: the top 1% of users and of products get far more than 1% of events.
    const auto top_share = [](const std::map<std::string, size_t> &counts, size_t population) {
        std::vector<size_t> sorted;
        for (const auto &entry : counts) sorted.push_back(entry.second);
        std::sort(sorted.rbegin(), sorted.rend());
        size_t top = 0;
        for (size_t i = 0; i < population / 100 && i < sorted.size(); ++i) top += sorted[i];
        return static_cast<double>(top) / 30000;
    };
    EXPECT_GT(top_share(user_counts, Catalog::kUserCount), 0.2);
    EXPECT_GT(top_share(product_counts, Catalog::kProductCount), 0.2);
}

TEST(EventgenBinaryTest, MemoryStaysFlatWithMoreEvents) {
    TempDir dir;
    long small_rss_kb = 0;
    long large_rss_kb = 0;
    Eventgen small({"--out", dir.path(), "--events", "50000"});
    ASSERT_EQ(small.wait(nullptr, &small_rss_kb), 0);
    Eventgen large({"--out", dir.path(), "--events", "2000000"});
    ASSERT_EQ(large.wait(nullptr, &large_rss_kb), 0);
    EXPECT_LT(large_rss_kb - small_rss_kb, 4096)
        << small_rss_kb << " KB vs " << large_rss_kb << " KB";
}

TEST(EventgenBinaryTest, RateThrottles) {
    TempDir dir;
    const auto started = std::chrono::steady_clock::now();
    ASSERT_EQ(
        run_eventgen({"--out", dir.path(), "--events", "1000", "--rate", "2000", "--seed", "1"})
            .exit_code,
        0);
    EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(450));
    // Event times follow the rate: 1000 events at 2000/s span about half a second.
    const std::vector<ParsedRow> rows = parse_csv(read_file(data_files(dir.path()).at(0)));
    EXPECT_EQ(rows.at(1).fields.at(4).substr(0, 19), "2026-01-01 00:00:00");
    EXPECT_EQ(rows.back().fields.at(4).substr(0, 19), "2026-01-01 00:00:00");
    EXPECT_GT(rows.back().fields.at(4), "2026-01-01 00:00:00.4");
}

TEST(EventgenBinaryTest, PrintsMatchingDdl) {
    const RunResult run = run_eventgen({"--print-ddl"});
    EXPECT_EQ(run.exit_code, 0);
    EXPECT_EQ(run.output,
              "CREATE TABLE user_events (\n"
              "    event_id uuid PRIMARY KEY,\n"
              "    user_id bigint NOT NULL,\n"
              "    product_id bigint NOT NULL,\n"
              "    event_type text NOT NULL,\n"
              "    event_time timestamptz NOT NULL,\n"
              "    price numeric(12,2) NOT NULL,\n"
              "    category text NOT NULL,\n"
              "    user_device text NOT NULL,\n"
              "    user_location text NOT NULL\n"
              ");\n");
    const RunResult named = run_eventgen({"--print-ddl", "--table", "staging.events"});
    EXPECT_EQ(lines_of(named.output).at(0), "CREATE TABLE staging.events (");
}

TEST(EventgenBinaryTest, RejectsBadArguments) {
    EXPECT_NE(run_eventgen({}).exit_code, 0) << "--out is required";
    EXPECT_NE(run_eventgen({"--out", "/tmp/x", "--bad-rows", "1.5"}).exit_code, 0);
    EXPECT_NE(run_eventgen({"--out", "/tmp/x", "--prefix", "../escape"}).exit_code, 0);
    const RunResult help = run_eventgen({"--help"});
    EXPECT_EQ(help.exit_code, 0);
    for (const char *option : {"--out", "--events", "--files", "--interval", "--rate", "--seed",
                               "--bad-rows", "--prefix", "--print-ddl", "--table"}) {
        EXPECT_NE(help.output.find(option), std::string::npos) << option;
    }
}

// --- JSON Lines, read with the ingester's own JSON Lines decoder. ---

// The table's columns; nested, the user's three by json_columns' pointers.
pg_ingest::JsonlDecoderOptions event_columns(bool nested) {
    pg_ingest::JsonlDecoderOptions options;
    const std::map<std::string, std::string> pointers = {{"user_id", "/user/id"},
                                                         {"user_device", "/user/device"},
                                                         {"user_location", "/user/location"}};
    for (const std::string name : {"event_id", "user_id", "product_id", "event_type", "event_time",
                                   "price", "category", "user_device", "user_location"}) {
        const auto pointer = pointers.find(name);
        options.columns.emplace_back(name, pg_ingest::JsonlColumnKind::kTyped,
                                     nested && pointer != pointers.end()
                                         ? std::optional<std::string>(pointer->second)
                                         : std::nullopt);
    }
    return options;
}

// A decoded line as a ParsedRow: NULL and missing as "" (which no column's check accepts).
ParsedRow row_of(const pg_ingest::DecodedLine &line, uint64_t number) {
    ParsedRow row{number, "", {}};
    for (size_t column = 0; column < line.values.size(); column++)
        row.fields.emplace_back(line.text(column));
    return row;
}

TEST(EventgenBinaryTest, JsonLinesHoldTheSameEventsAsCsv) {
    TempDir csv_dir, flat_dir, nested_dir;
    for (const auto &[dir, format] : {std::pair{&csv_dir, "csv"}, {&flat_dir, "jsonl"}})
        ASSERT_EQ(run_eventgen({"--out", dir->path(), "--events", "3000", "--seed", "11",
                                "--format", format})
                      .exit_code,
                  0);
    ASSERT_EQ(run_eventgen({"--out", nested_dir.path(), "--events", "3000", "--seed", "11",
                            "--format", "jsonl", "--nested"})
                  .exit_code,
              0);
    const std::vector<ParsedRow> csv_rows = parse_csv(read_file(data_files(csv_dir.path())[0]));
    for (const bool nested : {false, true}) {
        SCOPED_TRACE(nested ? "nested" : "flat");
        const std::vector<std::string> files = data_files((nested ? nested_dir : flat_dir).path());
        ASSERT_EQ(files.size(), 1u);
        EXPECT_EQ(files[0].substr(files[0].size() - 6), ".jsonl");
        const std::vector<std::string> lines = lines_of(read_file(files[0]));
        ASSERT_EQ(lines.size(), 3000u);
        pg_ingest::JsonlLineDecoder decoder(event_columns(nested));
        pg_ingest::DecodedLine decoded;
        for (size_t i = 0; i < lines.size(); i++) {
            decoder.decode(lines[i], i == 0, decoded);
            ASSERT_EQ(decoded.outcome, pg_ingest::JsonlLineOutcome::kRow) << decoded.message;
            EXPECT_EQ(row_of(decoded, i + 2).fields, csv_rows[i + 1].fields) << "line " << i + 1;
            // Numbers as JSON numbers, not strings.
            EXPECT_TRUE(std::regex_search(lines[i], std::regex(R"("price": \d+\.\d\d[,}])")));
            EXPECT_TRUE(std::regex_search(
                lines[i], std::regex(nested ? R"("user": \{"id": \d+, "device": ")"
                                            : R"("user_id": \d+, "product_id": \d+,)")));
        }
    }
}

TEST(EventgenBinaryTest, JsonBadRowsAreExactlyWhatTheManifestSays) {
    std::map<std::string, uint64_t> total_by_kind;
    for (const bool nested : {false, true}) {
        SCOPED_TRACE(nested ? "nested" : "flat");
        TempDir dir;
        std::vector<std::string> args = {"--out", dir.path(), "--events", "6000",       "--seed",
                                         "7",     "--format", "jsonl",    "--bad-rows", "0.05"};
        if (nested) args.push_back("--nested");
        ASSERT_EQ(run_eventgen(args).exit_code, 0);
        const std::string file = data_files(dir.path()).at(0);
        const Manifest manifest = read_manifest(file + ".manifest.json", kJsonKinds);
        EXPECT_NE(read_file(file + ".manifest.json").find("\"header_lines\": 0,"),
                  std::string::npos);
        const std::vector<std::string> lines = lines_of(read_file(file));
        ASSERT_EQ(lines.size(), 6000u);
        EXPECT_EQ(manifest.data_lines, 6000u);
        std::map<uint64_t, std::string> kind_of_line;
        for (const auto &[kind, numbers] : manifest.lines_by_kind) {
            for (uint64_t number : numbers) kind_of_line.emplace(number, kind);
            total_by_kind[kind] += numbers.size();
        }
        EXPECT_EQ(kind_of_line.size(), manifest.bad_lines);

        pg_ingest::JsonlLineDecoder decoder(event_columns(nested));
        pg_ingest::DecodedLine decoded;
        std::set<std::string> good_ids;
        for (size_t i = 0; i < lines.size(); i++) {
            const uint64_t number = i + 1;  // no header
            decoder.decode(lines[i], i == 0, decoded);
            const auto bad = kind_of_line.find(number);
            const std::string kind = bad == kind_of_line.end() ? "good" : bad->second;
            SCOPED_TRACE("line " + std::to_string(number) + " " + kind + ": " + decoded.message);
            using Outcome = pg_ingest::JsonlLineOutcome;
            size_t missing = 0;
            for (const auto &value : decoded.values)
                missing += value.state == pg_ingest::JsonlValueState::kMissing;
            if (kind == "good" || kind == "duplicate_event_id") {
                ASSERT_EQ(decoded.outcome, Outcome::kRow);
                EXPECT_EQ(row_problem(row_of(decoded, number)), "");
                const std::string id(decoded.text(0));
                EXPECT_EQ(good_ids.count(id), kind == "good" ? 0u : 1u);
                if (kind == "good") good_ids.insert(id);
            } else if (kind == "truncated_object") {
                EXPECT_TRUE(decoded.outcome == Outcome::kInvalidJson ||
                            decoded.outcome == Outcome::kInvalidUtf8);
            } else if (kind == "array_line") {
                EXPECT_EQ(decoded.outcome, Outcome::kNotAnObject);
            } else if (kind == "wrong_type") {
                ASSERT_EQ(decoded.outcome, Outcome::kRow);
                EXPECT_EQ(missing, 0u);
                EXPECT_NE(row_problem(row_of(decoded, number)), "");
            } else if (kind == "missing_key") {
                EXPECT_EQ(decoded.outcome, Outcome::kRow);
                EXPECT_EQ(missing, 1u);
            } else if (kind == "extra_key") {
                EXPECT_EQ(decoded.outcome, Outcome::kUnknownKey);
            } else if (kind == "invalid_utf8") {
                EXPECT_EQ(decoded.outcome, Outcome::kInvalidUtf8);
            } else {
                ADD_FAILURE() << "unknown kind";
            }
        }
    }
    for (const std::string &kind : kJsonKinds) EXPECT_GT(total_by_kind[kind], 0u) << kind;
}

TEST(EventgenBinaryTest, NestedIsForJsonLinesOnly) {
    TempDir dir;
    const RunResult result = run_eventgen({"--out", dir.path(), "--nested"});
    EXPECT_EQ(result.exit_code, 1);
    EXPECT_TRUE(data_files(dir.path()).empty());
}

}  // namespace
}  // namespace eventgen
