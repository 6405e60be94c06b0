#include "connectors/fax/ingest_folder.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <exception>
#include <system_error>
#include <vector>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "connectors/fax/ingest_files.hpp"
#include "util/files.hpp"
#include "util/json_string.hpp"
#include "util/log.hpp"

namespace bh::connectors::fax {
namespace fs = std::filesystem;
namespace json = boost::json;
namespace {

constexpr std::size_t kMaxJobBytes = 64 * 1024;  // a job file is a few hundred bytes
constexpr std::size_t kMaxValueBytes = 256;      // of one value in it

Error job_error(std::string message) {
  return Error{"job file: " + std::move(message)};
}

// A reason on one line, for <name>.reason and the log.
std::string one_line(std::string text) {
  for (char& c : text)
    if (c == '\r' || c == '\n') c = ' ';
  return text;
}

}  // namespace

fs::path ingest_directory_of(const FaxSettings& settings) {
  if (!settings.ingest.directory.empty()) return settings.ingest.directory;
  if (settings.backend == Backend::spool && !settings.spool.directory.empty())
    return settings.spool.directory / "incoming";
  return settings.work_directory / "incoming";
}

Result<ReceivedFax> parse_fax_job(std::string_view text) {
  if (text.size() > kMaxJobBytes) return job_error("larger than 64 KiB");
  boost::system::error_code ec;
  json::value value = json::parse(text, ec);
  if (ec) return job_error("not JSON: " + ec.message());
  if (!value.is_object()) return job_error("not a JSON object");
  ReceivedFax fax;
  bool called = false;
  for (const auto& entry : value.as_object()) {
    std::string_view key(entry.key().data(), entry.key().size());
    const json::value& item = entry.value();
    std::string* target = key == "called"            ? &fax.called
                          : key == "caller"          ? &fax.caller
                          : key == "caller_name"     ? &fax.caller_name
                          : key == "tsi"             ? &fax.tsi
                          : key == "expected_tenant" ? &fax.expected_tenant
                                                     : nullptr;
    if (target != nullptr) {
      if (!item.is_string()) return job_error(fmt::format("\"{}\" must be a string", key));
      if (item.as_string().size() > kMaxValueBytes)
        return job_error(fmt::format("\"{}\" is longer than {} bytes", key, kMaxValueBytes));
      *target = std::string(item.as_string());
      if (key == "called") called = true;
    } else if (key == "received_at") {
      if (!item.is_int64() && !item.is_uint64())
        return job_error("\"received_at\" must be an integer (unix seconds)");
      std::int64_t at = item.is_int64() ? item.as_int64() : -1;
      if (at < 0) return job_error("\"received_at\" is out of range");
      fax.received_at = at;
    } else {
      std::string name;
      append_json_string(name, key, NotUtf8::replacement);
      return job_error("unknown key " + name);
    }
  }
  if (!called || fax.called.empty()) return job_error("\"called\" is missing");
  return fax;
}

std::string fax_job_json(const ReceivedFax& fax) {
  std::string out = "{\"called\": ";
  append_json_string(out, fax.called, NotUtf8::replacement);
  auto optional = [&](std::string_view key, const std::string& value) {
    if (value.empty()) return;
    out += fmt::format(", \"{}\": ", key);
    append_json_string(out, value, NotUtf8::replacement);
  };
  optional("caller", fax.caller);
  optional("caller_name", fax.caller_name);
  optional("tsi", fax.tsi);
  optional("expected_tenant", fax.expected_tenant);
  if (fax.received_at > 0) out += fmt::format(", \"received_at\": {}", fax.received_at);
  return out + "}\n";
}

IngestFolder::IngestFolder(fs::path directory, std::chrono::seconds poll, FaxIngest& ingest)
    : IngestFolder(std::move(directory), poll,
                   [&ingest](const ReceivedFax& fax) { return ingest.ingest(fax); }) {}

IngestFolder::IngestFolder(fs::path directory, std::chrono::seconds poll, IngestFunction ingest)
    : directory_(std::move(directory)), poll_(poll), ingest_(std::move(ingest)) {}

IngestFolder::~IngestFolder() {
  stop();
}

void IngestFolder::start() {
  // rejected/ is made (mode 0700) and checked now, so that a bad one is
  // reported at the start rather than at the first rejected fax.
  UniqueFd dir(::open(directory_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  std::string problem;
  if (!dir.valid()) {
    std::error_code ec;
    fs::create_directories(directory_, ec);
    dir = UniqueFd(::open(directory_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir.valid()) problem = ec ? ec.message() : system_error("open", errno).message;
  }
  if (dir.valid())
    if (auto rejected = open_own_directory(dir.get(), "rejected"); !rejected)
      problem = rejected.error().message;
  if (!problem.empty())
    log::Line("fax_ingest_folder")
        .kv("directory", directory_.string())
        .kv("error", problem)
        .write(log::Level::error);
  thread_ = std::thread([this] { run(); });
}

void IngestFolder::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void IngestFolder::run() {
  // A failed scan is logged and the thread goes on, waiting longer after
  // each failure in a row (up to ten poll intervals).
  int failures = 0;
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    try {
      scan_once();
      failures = 0;
    } catch (const std::exception& e) {
      ++failures;
      log::Line("fax_ingest_folder_failed")
          .kv("directory", directory_.string())
          .kv("error", e.what())
          .write(log::Level::error);
    } catch (...) {
      ++failures;
      log::Line("fax_ingest_folder_failed")
          .kv("directory", directory_.string())
          .kv("error", "unknown exception")
          .write(log::Level::error);
    }
    lock.lock();
    wake_.wait_for(lock, poll_ * std::min(1 + failures, 10), [this] { return stopping_; });
  }
}

void IngestFolder::scan_once() {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(directory_, ec), end; !ec && it != end; it.increment(ec)) {
    std::string file = it->path().filename().string();
    // Hidden names are files still being written (".<name>.json.tmp"). A
    // symlink named .json is seen (and refused by handle()).
    std::error_code type_ec;
    if (file.starts_with(".") || !file.ends_with(".json") || it->is_directory(type_ec)) continue;
    names.push_back(file.substr(0, file.size() - 5));
  }
  if (ec) {
    log::Line("fax_ingest_folder")
        .kv("directory", directory_.string())
        .kv("error", ec.message())
        .write(log::Level::warn);
    return;
  }
  std::sort(names.begin(), names.end());  // oldest first when names carry the time
  for (const std::string& name : names) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    handle(name);
  }
}

void IngestFolder::handle(const std::string& name) {
  UniqueFd dir(::open(directory_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid()) return;  // scan_once saw it; the next scan reports a folder gone
  auto job_text = read_untrusted_file(dir.get(), name + ".json", kMaxJobBytes);
  if (!job_text) {
    const std::error_code& code = job_text.error().code;
    if (code == std::errc::no_such_file_or_directory) {  // gone meanwhile: nothing to say
      unreadable_.erase(name);
      return;
    }
    // Not a regular file of its own (a link, a FIFO, too large): never readable.
    if (!code) return reject(name, job_text.error().message);
    // Unreadable now (permissions, I/O): tried again, but not forever.
    int scans = ++unreadable_[name];
    if (scans >= kUnreadableScans)
      return reject(name, fmt::format("the job file could not be read in {} scans: {}", scans,
                                      job_text.error().message));
    if (scans == 1)
      log::Line("fax_ingest_deferred")
          .kv("file", (directory_ / (name + ".json")).string())
          .kv("reason", job_text.error().message)
          .write(log::Level::warn);
    return;
  }
  unreadable_.erase(name);
  auto job = parse_fax_job(job_text->bytes);
  if (!job) return reject(name, job.error().message);
  struct stat st {};
  if (::fstatat(dir.get(), (name + ".tif").c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
    return reject(name, name + ".tif is missing");
  // FaxIngest opens it without following a link and checks it (one link, a
  // regular file) on the descriptor it reads from.
  job->tiff = directory_ / (name + ".tif");
  job->source = "folder";
  IngestAnswer answer = ingest_(*job);
  switch (answer.status) {
    case IngestStatus::queued:
      // The mail is durable in the queue: the fax is no longer needed.
      ::unlinkat(dir.get(), (name + ".tif").c_str(), 0);
      ::unlinkat(dir.get(), (name + ".json").c_str(), 0);
      ::fsync(dir.get());
      deferred_.erase(name);
      return;
    case IngestStatus::unavailable:
      if (deferred_.insert(name).second)
        log::Line("fax_ingest_deferred")
            .kv("file", job->tiff.string())
            .kv("reason", answer.reason)
            .write(log::Level::warn);
      return;
    case IngestStatus::invalid:
    case IngestStatus::unknown_number:
    case IngestStatus::refused:
      return reject(name, std::string(ingest_status_name(answer.status)) + ": " + answer.reason);
  }
}

void IngestFolder::reject(const std::string& name, const std::string& reason) {
  deferred_.erase(name);
  unreadable_.erase(name);
  fs::path rejected_path = directory_ / "rejected";
  UniqueFd dir(::open(directory_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  Result<UniqueFd> rejected =
      dir.valid() ? open_own_directory(dir.get(), "rejected")
                  : Result<UniqueFd>(system_error("open " + directory_.string(), errno));
  if (!rejected) {
    // Nothing is moved into a directory that is not the gateway's: the fax
    // stays (and is seen again at the next scan); the error is logged once.
    if (!rejected_refused_logged_)
      log::Line("fax_ingest_folder")
          .kv("directory", rejected_path.string())
          .kv("error", rejected.error().message)
          .kv("file", (directory_ / (name + ".tif")).string())
          .kv("reason", one_line(reason))
          .write(log::Level::error);
    rejected_refused_logged_ = true;
    return;
  }
  // The reason file is created exclusively; a name taken in rejected/ (the
  // same name rejected before) gets a suffix.
  std::string stem;
  Status reason_written = Error{"no free name"};
  for (int n = 0; n < 100 && !reason_written; ++n) {
    stem = n == 0 ? name : fmt::format("{}.{}", name, n);
    reason_written =
        create_file_exclusively(rejected->get(), stem + ".reason", one_line(reason) + "\n", 0600);
    if (!reason_written && reason_written.error().code != std::errc::file_exists) break;
  }
  std::string problem = reason_written ? "" : reason_written.error().message;
  for (const char* extension : {".tif", ".json"}) {
    std::string file = name + extension;
    Status moved = move_without_replacing(dir.get(), file, rejected->get(), stem + extension);
    if (!moved && moved.error().code != std::errc::no_such_file_or_directory && problem.empty())
      problem = moved.error().message;
  }
  ::fsync(rejected->get());
  ::fsync(dir.get());
  log::Line line("fax_rejected");
  line.kv("file", (rejected_path / (stem + ".tif")).string()).kv("reason", one_line(reason));
  if (!problem.empty()) line.kv("error", problem);
  line.write(log::Level::error);
}

}  // namespace bh::connectors::fax
