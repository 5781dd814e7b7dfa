#include "core/discovery/source_overlap.hpp"

#include "core/discovery/glob_overlap.hpp"

#include <vector>

namespace pg_ingest {
namespace {

// The globs of every name a source acts on: its data files and their ready markers.
std::vector<std::string> taken_globs(const SourceFiles &source) {
    std::vector<std::string> globs{source.pattern};
    if (!source.ready_marker.empty())
        globs.push_back(source.pattern + escape_glob(source.ready_marker));
    return globs;
}

std::optional<Overlap> common_names(const SourceFiles &source, const SourceFiles &other,
                                    SharedDirectory where) {
    for (const std::string &glob : taken_globs(source))
        for (const std::string &other_glob : taken_globs(other))
            if (std::optional<std::string> name = common_file_name(glob, other_glob))
                return Overlap{where, glob, other_glob, *name};
    return std::nullopt;
}

}  // namespace

std::optional<Overlap> find_overlap(const SourceFiles &source, const SourceFiles &other) {
    std::optional<Overlap> found;
    if (source.directory == other.directory)
        found = common_names(source, other, SharedDirectory::directory_of_both);
    if (!found && source.archive_directory && *source.archive_directory == other.directory)
        found = common_names(source, other, SharedDirectory::archive_is_other_directory);
    if (!found && other.archive_directory && *other.archive_directory == source.directory)
        found = common_names(source, other, SharedDirectory::directory_is_other_archive);
    return found;
}

std::string describe_overlap(const std::string &name, const std::string &other_name,
                             const std::string &other_database, const std::string &directory,
                             const std::string &archive_directory, const Overlap &overlap) {
    std::string self = "source \"" + name + "\"";
    std::string other = "source \"" + other_name + "\"";
    if (!other_database.empty()) other += " of database \"" + other_database + "\"";
    std::string text = self + " can take the files of " + other + ": ";
    switch (overlap.where) {
        case SharedDirectory::directory_of_both:
            text += "\"" + directory + "\" is the directory of both";
            break;
        case SharedDirectory::archive_is_other_directory:
            text += "\"" + archive_directory + "\" is the archive_directory of " + self +
                    " and the directory of " + other;
            break;
        case SharedDirectory::directory_is_other_archive:
            text += "\"" + directory + "\" is the directory of " + self +
                    " and the archive_directory of " + other;
            break;
    }
    return text + ", and the file name \"" + overlap.example + "\" matches both \"" + overlap.glob +
           "\" and \"" + overlap.other_glob + "\"";
}

}  // namespace pg_ingest
