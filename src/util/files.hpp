// Small durable-file helpers shared by the spool and the connectors.
#pragma once

#include <filesystem>
#include <string>

#include "util/result.hpp"

namespace bh {

Result<std::string> read_whole_file(const std::filesystem::path& path);
// fsync(2) of a file, or of a directory so renames and new entries in it are durable.
Status sync_file(const std::filesystem::path& path);
Status sync_directory(const std::filesystem::path& path);

}  // namespace bh
