#include "connectors/fax/spool_backend.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <fstream>

#include <fmt/format.h>

#include "util/clock.hpp"
#include "util/files.hpp"
#include "util/json_string.hpp"
#include "util/log.hpp"
#include "util/printable.hpp"

namespace bh::connectors::fax {
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

// A result file is a few hundred bytes; a bigger one is not ours.
constexpr std::uintmax_t kMaxResultBytes = 64 * 1024;
// results/ is read in batches, so one poll stays short even after an outage.
constexpr std::size_t kMaxResultsPerPoll = 1000;

SubmitFailure transient(const std::string& text) {
  return SubmitFailure{false, "4.3.0", text};
}

// Moves the rendered TIFF into outgoing/ (a rename when it is on the same
// file system, else a copy under a temporary name), synced.
Status place_tiff(const fs::path& from, const fs::path& to) {
  if (auto synced = sync_file(from); !synced) return synced.error();
  if (::rename(from.c_str(), to.c_str()) == 0) return ok_status();
  if (errno != EXDEV) return system_error("rename " + from.string() + " to " + to.string(), errno);
  auto content = read_whole_file(from);
  if (!content) return content.error();
  if (auto written = write_file_durably(to, *content); !written) return written.error();
  std::error_code ignored;
  fs::remove(from, ignored);
  return ok_status();
}

std::string job_json(const std::string& reference, const FaxSubmission& s) {
  std::string out = "{\"reference\": ";
  append_json_string(out, reference, NotUtf8::replacement);
  out += ", \"number\": ";
  append_json_string(out, s.number, NotUtf8::replacement);
  out += fmt::format(
      ", \"pages\": {}, \"paper\": \"{}\", \"resolution\": \"{}\", "
      "\"compression\": \"{}\", \"tiff\": ",
      s.pages, render::paper_name(s.format.paper), render::resolution_name(s.format.resolution),
      render::compression_name(s.format.compression));
  append_json_string(out, reference + ".tif", NotUtf8::replacement);
  out += ", \"tag\": ";
  append_json_string(out, s.tag, NotUtf8::replacement);
  out += ", \"sender\": ";
  append_json_string(out, s.sender, NotUtf8::replacement);
  out += ", \"subaddress\": ";
  append_json_string(out, s.subaddress, NotUtf8::replacement);
  out += fmt::format(", \"submitted_at\": {}}}\n", unix_now());
  return out;
}

}  // namespace

std::string spool_reference(std::string_view tag) {
  std::string name;
  for (char c : tag) {
    bool safe = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                c == '.' || c == '-' || c == '_';
    name += safe ? c : '_';
  }
  if (name.size() > 150) name.resize(150);
  if (name.empty() || name.front() == '.') name.insert(name.begin(), 'j');
  return name;
}

Result<FaxJobReport> parse_spool_result(std::string_view text, const std::string& reference) {
  boost::system::error_code error;
  json::value value = json::parse(json::string_view(text.data(), text.size()), error);
  if (error) return Error{"not JSON: " + error.message()};
  const json::object* object = value.if_object();
  if (!object) return Error{"not a JSON object"};
  FaxJobReport report;
  auto text_member = [&](const char* key, std::string& out, bool required) -> std::string {
    const json::value* member = object->if_contains(key);
    if (!member) return required ? fmt::format("\"{}\" is missing", key) : "";
    if (!member->is_string()) return fmt::format("\"{}\" must be a string", key);
    out = std::string(member->get_string());
    return "";
  };
  auto number_member = [&](const char* key, auto& out, std::int64_t min,
                           std::int64_t max) -> std::string {
    const json::value* member = object->if_contains(key);
    if (!member) return "";
    if (!member->is_int64() || member->get_int64() < min || member->get_int64() > max)
      return fmt::format("\"{}\" must be an integer from {} to {}", key, min, max);
    out = static_cast<std::remove_reference_t<decltype(out)>>(member->get_int64());
    return "";
  };
  std::string named, status;
  std::int64_t duration = 0;
  for (std::string problem :
       {text_member("reference", named, true), text_member("status", status, true),
        text_member("text", report.status_text, false),
        text_member("csid", report.remote_csid, false), text_member("number", report.number, false),
        number_member("pages", report.pages_sent, 0, 100000),
        number_member("pages_total", report.pages_total, 0, 100000),
        number_member("duration", duration, 0, 86400 * 30),
        number_member("code", report.status_code, -1, 1000000)})
    if (!problem.empty()) return Error{problem};
  if (named != reference)
    return Error{fmt::format("\"reference\" is \"{}\", but the file is named for \"{}\"",
                             printable(named), reference)};
  if (status == "sent")
    report.sent = true;
  else if (status != "failed")
    return Error{
        fmt::format("\"status\" is \"{}\"; it must be \"sent\" or \"failed\"", printable(status))};
  if (report.pages_total == 0) report.pages_total = report.pages_sent;
  report.reference = reference;
  report.duration = std::chrono::seconds(duration);
  return report;
}

SpoolBackend::SpoolBackend(const SpoolSettings& settings, std::string connector_name)
    : outgoing_(settings.directory / "outgoing"),
      results_(settings.directory / "results"),
      bad_(settings.directory / "results" / "bad"),
      taken_(settings.directory / "taken"),
      connector_name_(std::move(connector_name)) {}

Result<std::unique_ptr<SpoolBackend>> SpoolBackend::open(const SpoolSettings& settings,
                                                         std::string connector_name) {
  std::unique_ptr<SpoolBackend> backend(new SpoolBackend(settings, std::move(connector_name)));
  for (const fs::path& folder :
       {backend->outgoing_, backend->results_, backend->bad_, backend->taken_}) {
    std::error_code error;
    fs::create_directories(folder, error);
    if (error) return Error{"spool folder " + folder.string() + ": " + error.message(), error};
  }
  return backend;
}

std::variant<Submitted, SubmitFailure> SpoolBackend::submit(const FaxSubmission& submission) {
  std::string reference = spool_reference(submission.tag);
  auto existing = handed_over(reference);
  if (!existing) return failed(reference, existing.error());
  if (*existing) {
    // An earlier attempt's job (its result was lost to a crash or a stop):
    // that job is the delivery, a second one would be a second fax.
    log::Line("fax_spool_job_found")
        .kv("connector", connector_name_)
        .kv("reference", reference)
        .write();
    return Submitted{reference};
  }
  // outgoing/<ref>.tif without its JSON is a crashed attempt's: the picker
  // never took it (it waits for the JSON), so it is replaced.
  fs::path tiff = outgoing_ / (reference + ".tif");
  if (auto placed = place_tiff(submission.tiff, tiff); !placed)
    return failed(reference, placed.error());
  if (auto written = write_job(reference, submission); !written) {
    std::error_code ignored;
    fs::remove(tiff, ignored);
    return failed(reference, written.error());
  }
  return Submitted{reference};
}

Result<bool> SpoolBackend::handed_over(const std::string& reference) const {
  const fs::path files[] = {outgoing_ / (reference + ".json"), taken_ / (reference + ".json"),
                            results_ / (reference + ".json"), bad_ / (reference + ".json")};
  for (const fs::path& file : files) {
    std::error_code error;
    bool exists = fs::exists(file, error);
    if (error) return Error{"look for " + file.string() + ": " + error.message(), error};
    if (exists) return true;
  }
  return false;
}

// The detail (paths) goes to the log; the sender's text names no local path.
SubmitFailure SpoolBackend::failed(const std::string& reference, const Error& error) const {
  log::Line("fax_spool_write_failed")
      .kv("connector", connector_name_)
      .kv("reference", reference)
      .kv("reason", error.message)
      .write(log::Level::warn);
  return transient("the fax spool folder cannot take the job now");
}

Status SpoolBackend::write_job(const std::string& reference, const FaxSubmission& submission) {
  if (auto written =
          write_file_durably(outgoing_ / (reference + ".json"), job_json(reference, submission));
      !written)
    return written.error();
  return sync_directory(outgoing_);
}

Result<std::vector<FaxJobReport>> SpoolBackend::finished() {
  std::vector<FaxJobReport> reports;
  std::error_code error;
  fs::directory_iterator entries(results_, error);
  if (error) return Error{"read " + results_.string() + ": " + error.message(), error};
  std::vector<fs::path> files;
  for (const fs::directory_entry& entry : entries) {
    std::string name = entry.path().filename().string();
    if (name.starts_with(".") || !name.ends_with(".json")) continue;  // a writer's temporary
    if (!entry.is_regular_file(error)) continue;
    files.push_back(entry.path());
    if (files.size() >= kMaxResultsPerPoll) break;
  }
  for (const fs::path& file : files) {
    std::string reference = file.stem().string();
    Result<FaxJobReport> report = Error{"larger than 64 KiB"};
    if (fs::file_size(file, error) <= kMaxResultBytes && !error) {
      auto content = read_whole_file(file);
      if (!content) {
        log::Line("fax_result_unreadable")
            .kv("connector", connector_name_)
            .kv("file", file.string())
            .kv("reason", content.error().message)
            .write(log::Level::warn);
        continue;  // asked again at the next poll
      }
      report = parse_spool_result(*content, reference);
    }
    if (report) {
      reports.push_back(std::move(*report));
      continue;
    }
    fs::path moved = bad_ / file.filename();
    fs::rename(file, moved, error);
    log::Line("fax_result_malformed")
        .kv("connector", connector_name_)
        .kv("file", file.string())
        .kv("reason", report.error().message)
        .kv("moved_to",
            error ? std::string("(could not move: ") + error.message() + ")" : moved.string())
        .write(log::Level::error);
  }
  return reports;
}

Status SpoolBackend::forget(const std::string& reference) {
  fs::path file = results_ / (reference + ".json");
  if (::unlink(file.c_str()) != 0 && errno != ENOENT)
    return system_error("remove " + file.string(), errno);
  return sync_directory(results_);
}

}  // namespace bh::connectors::fax
