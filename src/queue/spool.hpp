// The spool directory: one file per message, its state given by the folder
// it is in. Moving between states is a rename, so the gateway, the
// scheduler and `bridgehead queue` can act on the same spool at once: the
// first rename wins, the other sees ENOENT.
#pragma once

#include <sys/uio.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "queue/spool_format.hpp"
#include "util/files.hpp"
#include "util/result.hpp"

namespace bh::queue {

enum class State { incoming, active, deferred, hold, corrupt };
inline constexpr State kAllStates[] = {State::incoming, State::active, State::deferred, State::hold,
                                       State::corrupt};

std::string_view state_name(State state);
std::optional<State> state_from_name(std::string_view name);

enum class MoveResult { moved, not_found, failed };

class Spool {
 public:
  explicit Spool(std::filesystem::path root) : root_(std::move(root)) {}

  Status create_layout() const;

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path folder(State state) const;
  std::filesystem::path tmp_folder() const { return root_ / "tmp"; }
  std::filesystem::path file(State state, std::string_view id) const;

  MoveResult move(std::string_view id, State from, State to) const;
  std::vector<std::string> list(State state) const;
  std::optional<State> locate(std::string_view id) const;

  Result<QueuedMessage> load(State state, std::string_view id) const;
  Result<Envelope> load_envelope(State state, std::string_view id, std::size_t* size) const;

  // Writes a complete queue file to path (no fsync; the caller decides).
  // The content is written as the body (format 2 with an empty header part).
  static Status write_file(const std::filesystem::path& path, const Envelope& envelope,
                           std::string_view content);

 private:
  std::filesystem::path root_;
};

// writev(2) until every part is written; EINTR and short writes handled.
Status write_all(int fd, struct iovec* parts, int count, const std::filesystem::path& path);

}  // namespace bh::queue
