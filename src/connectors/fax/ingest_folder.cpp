#include "connectors/fax/ingest_folder.hpp"

#include <algorithm>
#include <exception>
#include <fstream>
#include <system_error>
#include <vector>

#include <fmt/format.h>
#include <boost/json.hpp>

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
    std::string* target = key == "called"        ? &fax.called
                          : key == "caller"      ? &fax.caller
                          : key == "caller_name" ? &fax.caller_name
                          : key == "tsi"         ? &fax.tsi
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
  if (fax.received_at > 0) out += fmt::format(", \"received_at\": {}", fax.received_at);
  return out + "}\n";
}

IngestFolder::IngestFolder(fs::path directory, std::chrono::seconds poll, FaxIngest& ingest)
    : directory_(std::move(directory)), poll_(poll), ingest_(ingest) {}

IngestFolder::~IngestFolder() {
  stop();
}

void IngestFolder::start() {
  std::error_code ec;
  fs::create_directories(directory_ / "rejected", ec);
  if (ec)
    log::Line("fax_ingest_folder")
        .kv("directory", directory_.string())
        .kv("error", ec.message())
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
  try {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      lock.unlock();
      scan_once();
      lock.lock();
      wake_.wait_for(lock, poll_, [this] { return stopping_; });
    }
  } catch (const std::exception& e) {
    log::Line("fax_ingest_folder_failed")
        .kv("directory", directory_.string())
        .kv("error", e.what())
        .write(log::Level::error);
  }
}

void IngestFolder::scan_once() {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(directory_, ec), end; !ec && it != end; it.increment(ec)) {
    std::string file = it->path().filename().string();
    // Hidden names are files still being written (".<name>.json.tmp").
    if (file.starts_with(".") || !file.ends_with(".json") || !it->is_regular_file(ec)) continue;
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
  fs::path job_path = directory_ / (name + ".json");
  fs::path tiff_path = directory_ / (name + ".tif");
  auto job_text = read_whole_file(job_path);
  if (!job_text) {  // gone meanwhile (nothing to say), or unreadable: tried again
    std::error_code gone;
    if (fs::exists(job_path, gone) && deferred_.insert(name).second)
      log::Line("fax_ingest_deferred")
          .kv("file", job_path.string())
          .kv("reason", job_text.error().message)
          .write(log::Level::warn);
    return;
  }
  auto job = parse_fax_job(*job_text);
  if (!job) return reject(name, job.error().message);
  std::error_code ec;
  if (!fs::is_regular_file(tiff_path, ec)) return reject(name, name + ".tif is missing");
  job->tiff = tiff_path;
  job->source = "folder";
  IngestAnswer answer = ingest_.ingest(*job);
  switch (answer.status) {
    case IngestStatus::queued:
      // The mail is durable in the queue: the fax is no longer needed.
      fs::remove(tiff_path, ec);
      fs::remove(job_path, ec);
      (void)sync_directory(directory_);
      deferred_.erase(name);
      return;
    case IngestStatus::unavailable:
      if (deferred_.insert(name).second)
        log::Line("fax_ingest_deferred")
            .kv("file", tiff_path.string())
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
  fs::path rejected = directory_ / "rejected";
  std::error_code ec;
  fs::create_directories(rejected, ec);
  {
    std::ofstream out(rejected / (name + ".reason"), std::ios::trunc);
    out << one_line(reason) << "\n";
  }
  for (const char* extension : {".tif", ".json"}) {
    fs::path from = directory_ / (name + extension);
    if (fs::exists(from, ec)) fs::rename(from, rejected / (name + extension), ec);
  }
  (void)sync_directory(rejected);
  (void)sync_directory(directory_);
  log::Line("fax_rejected")
      .kv("file", (rejected / (name + ".tif")).string())
      .kv("reason", one_line(reason))
      .write(log::Level::error);
}

}  // namespace bh::connectors::fax
