// Small durable-file helpers shared by the spool and the connectors.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace bh {

Result<std::string> read_whole_file(const std::filesystem::path& path);
// fsync(2) of a file, or of a directory so renames and new entries in it are durable.
Status sync_file(const std::filesystem::path& path);
Status sync_directory(const std::filesystem::path& path);
// Writes bytes to path's hidden sibling ".<name>.tmp" (mode 0640), fsyncs
// it, renames it over path and fsyncs the directory: readers see the old
// file or the whole new one, and the new one survives a crash once this
// returns. The temporary is removed on failure.
Status write_file_durably(const std::filesystem::path& path, std::string_view bytes);

}  // namespace bh
